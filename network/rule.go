package network

// walkableHighway lists the highway values a pedestrian may use unless the way's tags say
// otherwise. Left out: motorways and trunk roads (no pedestrians unless a tag allows them, see
// Walkable), cycleways and bridleways (foot=no by default in most of Europe), and ways that are
// not (yet, or any more) open: construction, proposed, abandoned, razed, and raceways,
// bus guideways and busways.
var walkableHighway = map[string]bool{
	"footway": true, "path": true, "steps": true, "pedestrian": true, "living_street": true,
	"residential": true, "service": true, "unclassified": true, "road": true, "track": true,
	"tertiary": true, "tertiary_link": true, "secondary": true, "secondary_link": true,
	"primary": true, "primary_link": true, "crossing": true, "corridor": true,
	"platform": true, "elevator": true,
}

// footAllowed are the foot= values that allow pedestrians whatever else the way says.
var footAllowed = map[string]bool{"yes": true, "designated": true, "permissive": true}

// Walkable is the rule of which OSM ways a pedestrian may use, over the way's tags (osm.Tags'
// Map()):
//
//  1. A way without a highway tag, or one being built or only planned (highway=construction,
//     proposed, abandoned, razed), is not walkable.
//  2. foot=no or foot=private forbids it.
//  3. foot=yes, designated or permissive allows it, whatever the highway and access tags.
//  4. access=no or private forbids it (rule 3 aside).
//  5. A motorway (or its link) is not walkable; a trunk road (or link) is walkable only with a
//     sidewalk (sidewalk=both, left, right or yes: a sidewalk mapped as its own way, separate,
//     is walked on that way).
//  6. Otherwise the highway value decides: footway (crossings, sidewalks), path, steps,
//     pedestrian, living_street, residential, service, unclassified, road, track, tertiary,
//     secondary and primary (and their links), crossing, corridor, platform and elevator are
//     walkable; cycleway, bridleway, bus_guideway, busway, raceway and anything unknown are not.
func Walkable(tags map[string]string) bool {
	hw := tags["highway"]
	switch hw {
	case "", "construction", "proposed", "abandoned", "razed":
		return false
	}
	foot := tags["foot"]
	switch {
	case foot == "no" || foot == "private":
		return false
	case footAllowed[foot]:
		return true
	}
	if a := tags["access"]; a == "no" || a == "private" {
		return false
	}
	switch hw {
	case "motorway", "motorway_link":
		return false
	case "trunk", "trunk_link":
		switch tags["sidewalk"] {
		case "both", "left", "right", "yes":
			return true
		}
		return false
	}
	return walkableHighway[hw]
}
