package layers

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrUpsertKey marks an upsert whose key cannot match features one to one: a key field the
// layer does not have (or may not match by), a feature without a key, a key repeated in the
// import, or a stored key held by several features.
var ErrUpsertKey = errors.New("upsert key")

// Upsert is the plan of an upsert into a store: how many features update stored ones and
// how many are new, and the stored ids of the features updated (which the store removes
// before writing the new ones, in the same transaction or rewrite).
type Upsert struct {
	Updated, Inserted Counts
	Replaced          map[string][]int64 // layer → stored ids updated
}

// CheckUpsertKey says whether features of l can be matched by field: "id", or a public
// String or Integer field. Restricted fields are not keys: personal data does not decide
// which feature is which.
func CheckUpsertKey(l *Layer, field string) error {
	if field == "id" {
		return nil
	}
	fd, ok := l.Field(field)
	switch {
	case !ok:
		return fmt.Errorf("%w: layer %s has no field %q", ErrUpsertKey, l.Name, field)
	case fd.Restricted:
		return fmt.Errorf("%w: %s.%s is a restricted field and cannot be a key", ErrUpsertKey, l.Name, field)
	case fd.Type != String && fd.Type != Integer:
		return fmt.Errorf("%w: %s.%s is a %s field; a key is text or a whole number", ErrUpsertKey, l.Name, field, fd.Type)
	}
	return nil
}

// UpsertKeyText is the text by which f is matched on field (see CheckUpsertKey): the id or
// integer in decimal, the string itself. ok is false when f has no value for the field.
func UpsertKeyText(l *Layer, field string, f *Feature) (key string, ok bool, err error) {
	if field == "id" {
		return strconv.FormatInt(f.ID, 10), true, nil
	}
	fd, _ := l.Field(field)
	v := f.Props[field]
	if v == nil {
		return "", false, nil
	}
	v, err = fd.Convert(v)
	if err != nil {
		return "", false, fmt.Errorf("%s feature %d: %s: %w", l.Name, f.ID, field, err)
	}
	switch x := v.(type) {
	case string:
		return x, true, nil
	case int64:
		return strconv.FormatInt(x, 10), true, nil
	}
	return "", false, fmt.Errorf("%w: %s.%s: %T is not a key", ErrUpsertKey, l.Name, field, v)
}

// PlanUpsert matches the features to the stored ones by field: stored maps each layer's key
// texts (UpsertKeyText) to the ids holding them. A feature whose key is stored takes the
// stored id (references to it stay valid) and counts as updated; the others keep their ids
// and count as inserted. Every feature needs a key, no key may repeat among the features,
// and a matched key must be held by one stored feature only.
func PlanUpsert(field string, stored map[string]map[string][]int64, add []Feature) (Upsert, error) {
	p := Upsert{Updated: Counts{}, Inserted: Counts{}, Replaced: map[string][]int64{}}
	seen := map[string]map[string]int64{} // layer → key → feature id in the import
	for i := range add {
		f := &add[i]
		l, err := Lookup(f.Layer)
		if err != nil {
			return p, fmt.Errorf("feature %d: %w", f.ID, err)
		}
		if err := CheckUpsertKey(l, field); err != nil {
			return p, err
		}
		key, ok, err := UpsertKeyText(l, field, f)
		if err != nil {
			return p, err
		}
		if !ok {
			return p, fmt.Errorf("%w: %s feature %d has no %s", ErrUpsertKey, l.Name, f.ID, field)
		}
		if seen[l.Name] == nil {
			seen[l.Name] = map[string]int64{}
		}
		if other, dup := seen[l.Name][key]; dup {
			return p, fmt.Errorf("%w: %s %s %q is held by features %d and %d of the import", ErrUpsertKey, l.Name, field, key, other, f.ID)
		}
		seen[l.Name][key] = f.ID
		switch ids := stored[l.Name][key]; len(ids) {
		case 0:
			p.Inserted[l.Name]++
		case 1:
			f.ID = ids[0]
			p.Updated[l.Name]++
			p.Replaced[l.Name] = append(p.Replaced[l.Name], ids[0])
		default:
			return p, fmt.Errorf("%w: %s %s %q is held by %d stored features (ids %v): cannot tell which to update", ErrUpsertKey, l.Name, field, key, len(ids), ids)
		}
	}
	return p, nil
}
