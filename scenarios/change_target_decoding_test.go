package scenarios

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestChangeTargetsAreReadAsStringsOrNumbers(t *testing.T) {
	tests := []struct {
		name    string
		target  string // the JSON of the change's target
		want    string // the target kept; "" when none
		message string // part of the error message; "" when the target is accepted
	}{
		{"a target given as a string is kept", `"12"`, "12", ""},
		{"a target given as a JSON number is read as its id", `12`, "12", ""},
		{"a null target is no target", `null`, "", ""},
		{"a string target that is not a whole number is refused by name", `"B1"`, "", `"B1" is not a feature id`},
		{"a target that is neither a string nor a number is refused", `true`, "", "want a feature id as a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeChange(ChangeInput{Kind: DemolishBuilding, Target: json.RawMessage(tt.target)})
			if tt.message == "" {
				if err != nil || c.Target != tt.want {
					t.Fatalf("DecodeChange(target %s) = target %q, %v; want %q", tt.target, c.Target, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("DecodeChange(target %s) error = %v, want one saying %q", tt.target, err, tt.message)
			}
		})
	}
}
