package spatial

// Hilbert returns the distance of cell (x, y) along the Hilbert curve that fills a side × side
// grid (side a power of two, x and y below it), as Wikipedia's xy2d computes it. Cells close
// on the curve are close on the map, so ordering by it keeps neighbours together: the PostGIS
// import copies rows in this order, the synthetic city walks its blocks in it, and PMTiles
// numbers the tiles of a zoom by it.
func Hilbert(side, x, y uint64) uint64 {
	var d uint64
	for s := side / 2; s > 0; s /= 2 {
		var rx, ry uint64
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		// Turn the quadrant so that the curve runs on through the next one. Only the bits
		// below s are read from here on, so s−1−x stands for side−1−x.
		if ry == 0 {
			if rx == 1 {
				x, y = s-1-x&(s-1), s-1-y&(s-1)
			}
			x, y = y, x
		}
	}
	return d
}
