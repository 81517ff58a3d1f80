package layers

import "context"

// CityTotal is the district of a census row that counts the whole city.
const CityTotal = "*"

// Census is a city's census table: residents, and optionally dwellings and households, per
// district, as published by a statistics office. The engine calibrates its modelled residents
// to it (docs/domain.md, "Census calibration").
type Census struct {
	Rows []CensusRow `json:"rows"`
}

// CensusRow is one district's figures. District is the district's code or name, or
// CityTotal for the whole city. Dwellings and Households are nil when not given; Year 0 and
// Source "" when not given.
type CensusRow struct {
	District   string `json:"district"`
	Population int64  `json:"population"`
	Dwellings  *int64 `json:"dwellings,omitempty"`
	Households *int64 `json:"households,omitempty"`
	Year       int    `json:"year,omitempty"`
	Source     string `json:"source,omitempty"`
}

// CensusStore is a store that keeps a census beside the layers. Census returns nil, and no
// error, when none was imported.
type CensusStore interface {
	Census(ctx context.Context) (*Census, error)
	// ImportCensus replaces the stored census with c, all or nothing.
	ImportCensus(ctx context.Context, c *Census) error
}
