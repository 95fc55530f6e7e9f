import type { GeoPoint } from '../../domain/event.ts'
import type { Random } from '../../domain/random.ts'

/** Where customers live and shop: the Tehran box of DarooghePulse. */
export const TEHRAN_BOX = Object.freeze({ latMin: 35.6, latMax: 35.8, lngMin: 51.2, lngMax: 51.5 })

export interface City {
  readonly name: string
  readonly lat: number
  readonly lng: number
}

/**
 * Places far from Tehran (every one more than 100 km from any point of the Tehran box)
 * used by the travel and new-location scenarios.
 */
export const FAR_CITIES: readonly City[] = Object.freeze([
  { name: 'Mashhad', lat: 36.2605, lng: 59.6168 },
  { name: 'Tabriz', lat: 38.08, lng: 46.2919 },
  { name: 'Isfahan', lat: 32.6546, lng: 51.668 },
  { name: 'Shiraz', lat: 29.5918, lng: 52.5837 },
  { name: 'Qom', lat: 34.6416, lng: 50.8746 },
  { name: 'Rasht', lat: 37.2808, lng: 49.5832 },
  { name: 'Yazd', lat: 31.8974, lng: 54.3569 },
  { name: 'Kish', lat: 26.5578, lng: 54.0194 },
  { name: 'Dubai', lat: 25.2048, lng: 55.2708 },
  { name: 'Istanbul', lat: 41.0082, lng: 28.9784 },
  { name: 'Baku', lat: 40.4093, lng: 49.8671 },
  { name: 'Yerevan', lat: 40.1792, lng: 44.4991 }
])

const EARTH_RADIUS_KM = 6371.0088
const KM_PER_DEG_LAT = 111.32

/**
 * The point `km` kilometres from `from` in direction `bearing` (radians), flat-earth (fine
 * below ~20 km), rounded to 6 decimals (~0.1 m): GPS precision, and shorter, cheaper JSON.
 */
export function offsetKm(from: GeoPoint, km: number, bearing: number): GeoPoint {
  const dLat = (km * Math.cos(bearing)) / KM_PER_DEG_LAT
  const dLng = (km * Math.sin(bearing)) / (KM_PER_DEG_LAT * Math.cos((from.lat * Math.PI) / 180))
  return { lat: round6(from.lat + dLat), lng: round6(from.lng + dLng) }
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6
}

/** A point at most `maxKm` from `center`, uniform over the disc. */
export function jitter(center: GeoPoint, maxKm: number, random: Random): GeoPoint {
  return offsetKm(center, maxKm * Math.sqrt(random.next()), random.next() * 2 * Math.PI)
}

/** Great-circle distance in kilometres. */
export function haversineKm(a: GeoPoint, b: GeoPoint): number {
  const toRad = Math.PI / 180
  const dLat = (b.lat - a.lat) * toRad
  const dLng = (b.lng - a.lng) * toRad
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * toRad) * Math.cos(b.lat * toRad) * Math.sin(dLng / 2) ** 2
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)))
}
