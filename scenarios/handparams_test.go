package scenarios

// handParameters are the parameters the hand-computed tests of the tiny city work with: the
// defaults, with 2.5 persons in every dwelling and every dwelling occupied, so that a
// dwelling houses 2.5 residents (the arithmetic beside the expectations) whatever the
// defaults' household size and occupancy (docs/domain.md, indicator 1).
func handParameters() Parameters {
	p := DefaultParameters()
	p.PersonsPerDwelling, p.OccupiedDwellingShare = 2.5, 1
	return p
}
