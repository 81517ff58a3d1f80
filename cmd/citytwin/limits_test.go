package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/citytwin/citytwin/web"
)

func TestTrustFlagsReachTheServer(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		check func(t *testing.T, o web.Options)
	}{
		{"by default no origin may call the admin and parcel routes", nil, func(t *testing.T, o web.Options) {
			if len(o.CORSAdminOrigins) != 0 {
				t.Errorf("CORSAdminOrigins %q, want none", o.CORSAdminOrigins)
			}
		}},
		{"admin origins are a comma-separated list", []string{"--cors-admin-origins", "https://ops.example, https://b.example"}, func(t *testing.T, o web.Options) {
			if want := []string{"https://ops.example", "https://b.example"}; !reflect.DeepEqual(o.CORSAdminOrigins, want) {
				t.Errorf("CORSAdminOrigins %q, want %q", o.CORSAdminOrigins, want)
			}
		}},
		// 10 a minute: a burst of 10 and 10 / 60 s = 0.1667 a second after it.
		{"ten failed authentications a minute by default", nil, func(t *testing.T, o web.Options) {
			if o.AuthFailureRate != (web.RateLimit{Rate: 10.0 / 60, Burst: 10}) {
				t.Errorf("AuthFailureRate %+v, want 10 a minute", o.AuthFailureRate)
			}
		}},
		{"zero turns the failed authentication limit off", []string{"--auth-failure-limit", "0"}, func(t *testing.T, o web.Options) {
			if o.AuthFailureRate.Rate != 0 {
				t.Errorf("AuthFailureRate %+v, want off", o.AuthFailureRate)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := loadServeConfig(c.args, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			var o web.Options
			if err := cfg.limits.apply(&o); err != nil {
				t.Fatal(err)
			}
			c.check(t, o)
		})
	}
	if _, err := loadServeConfig([]string{"--auth-failure-limit", "-1"}, noEnv); err == nil || !strings.Contains(err.Error(), "auth-failure-limit") {
		t.Errorf("a negative --auth-failure-limit: %v, want an error naming it", err)
	}
}
