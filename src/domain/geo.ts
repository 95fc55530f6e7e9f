/** Mean Earth radius (IUGG), km: the sphere that minimises the haversine error on average. */
export const EARTH_RADIUS_KM = 6371.0088

const RAD = Math.PI / 180

/**
 * Great-circle distance in km between two points in degrees (haversine). Takes plain numbers,
 * not point objects, so the hot path allocates nothing. Error against the ellipsoid is < 0.5 %.
 */
export function haversineKm(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const dLat = (lat2 - lat1) * RAD
  const dLng = (lng2 - lng1) * RAD
  const s1 = Math.sin(dLat / 2)
  const s2 = Math.sin(dLng / 2)
  const a = s1 * s1 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * s2 * s2
  // min() guards asin against a rounding error just above 1 for antipodal points.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)))
}

/** The point `km` due north of (lat, lng): used by tests and the generator to place points at a distance. */
export function northOf(lat: number, lng: number, km: number): { lat: number; lng: number } {
  return { lat: lat + km / EARTH_RADIUS_KM / RAD, lng }
}
