package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// lostWrites reads every scenario the workers wrote to and counts the acknowledged changes
// that are not there.
func (c *client) lostWrites(ctx context.Context, acked map[string][]string) (lost, total int, err error) {
	for id, ids := range acked {
		var list struct {
			Changes []struct {
				ID string `json:"id"`
			} `json:"changes"`
		}
		if err := c.getJSON(ctx, "/api/scenarios/"+id+"/changes", true, &list); err != nil {
			return 0, 0, err
		}
		have := map[string]bool{}
		for _, ch := range list.Changes {
			have[ch.ID] = true
		}
		for _, cid := range ids {
			total++
			if !have[cid] {
				lost++
			}
		}
	}
	return lost, total, nil
}

// report writes the figures and says whether the run passed: no 5xx, no unexpected status,
// no failed request, no lost write.
func report(out io.Writer, res *results, elapsed time.Duration, acked, lost int, rss *rssSamples) bool {
	kinds := make([]string, 0, len(res.byKind))
	for k := range res.byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var all []time.Duration
	var total, fiveXX, unexpected int64
	fmt.Fprintf(out, "%-9s %9s %9s %9s %9s  %s\n", "kind", "requests", "req/s", "p50 ms", "p99 ms", "statuses")
	for _, k := range kinds {
		ks := res.byKind[k]
		total += ks.count
		unexpected += ks.unexpected
		for s, n := range ks.status {
			if s >= 500 {
				fiveXX += n
			}
		}
		all = append(all, ks.latencies...)
		fmt.Fprintf(out, "%-9s %9d %9.1f %9.2f %9.2f  %v\n", k, ks.count, float64(ks.count)/elapsed.Seconds(),
			ms(percentile(ks.latencies, 0.50)), ms(percentile(ks.latencies, 0.99)), ks.status)
	}
	fmt.Fprintf(out, "%-9s %9d %9.1f %9.2f %9.2f\n", "all", total, float64(total)/elapsed.Seconds(),
		ms(percentile(all, 0.50)), ms(percentile(all, 0.99)))
	fmt.Fprintf(out, "duration %.1f s; 5xx %d; unexpected statuses %d; failed requests %d\n",
		elapsed.Seconds(), fiveXX, unexpected, res.errCount)
	for _, e := range res.errors {
		fmt.Fprintln(out, "  failed:", e)
	}
	fmt.Fprintf(out, "writes acknowledged %d in %d scenarios; lost %d\n", acked, len(res.acked), lost)
	if rss.start > 0 {
		fmt.Fprintf(out, "server RSS %.1f MiB at start, %.1f MiB at half time, %.1f MiB at end\n",
			float64(rss.start)/1024, float64(rss.half.Load())/1024, float64(rss.end)/1024)
	}
	ok := fiveXX == 0 && unexpected == 0 && res.errCount == 0 && lost == 0 && total > 0
	if ok {
		fmt.Fprintln(out, "PASS")
	} else {
		fmt.Fprintln(out, "FAIL")
	}
	return ok
}

// percentile of durations (nearest rank); 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
