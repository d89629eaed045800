//! Distances for 政务地图 / nearby halls.

/// Mean Earth radius in metres (IUGG).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres between two WGS-84/GCJ-02 points
/// (the haversine formula; the GCJ-02 offset cancels out at city scale).
pub fn distance_m(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// Parses a latitude/longitude pair from query text, refusing NaN and out-of-range values.
pub fn parse_point(lat: &str, lng: &str) -> Result<(f64, f64), &'static str> {
    let lat: f64 = lat.trim().parse().map_err(|_| "纬度应为数字")?;
    let lng: f64 = lng.trim().parse().map_err(|_| "经度应为数字")?;
    if !(-90.0..=90.0).contains(&lat) {
        return Err("纬度应在 -90 到 90 之间");
    }
    if !(-180.0..=180.0).contains(&lng) {
        return Err("经度应在 -180 到 180 之间");
    }
    Ok((lat, lng))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_matches_known_city_pairs() {
        // Beijing Tiananmen to Shanghai People's Square: about 1,067 km.
        let d = distance_m(39.9087, 116.3975, 31.2304, 121.4737);
        assert!((1_060_000.0..1_075_000.0).contains(&d), "{d}");
        assert!(distance_m(29.3, 120.07, 29.3, 120.07) < 0.001);
    }

    #[test]
    fn parse_point_rejects_nan_and_range() {
        assert_eq!(parse_point("29.3", "120.1"), Ok((29.3, 120.1)));
        for (a, b) in [("NaN", "1"), ("91", "1"), ("1", "181"), ("x", "1"), ("", "")] {
            assert!(parse_point(a, b).is_err(), "{a},{b}");
        }
    }
}
