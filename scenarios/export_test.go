package scenarios

// Test helpers the external test package (scenarios_test) uses.
var (
	SynthCity     = synthCity
	BenchFeatures = benchFeaturesOf
)
