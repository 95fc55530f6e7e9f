import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EARTH_RADIUS_KM, haversineKm, northOf } from '../../src/domain/geo.ts'

const P = {
  tehran: [35.6892, 51.389],
  isfahan: [32.6546, 51.668],
  mashhad: [36.2605, 59.6168],
  karaj: [35.84, 50.9391],
  london: [51.5074, -0.1278],
  paris: [48.8566, 2.3522],
  newYork: [40.7128, -74.006],
  losAngeles: [34.0522, -118.2437],
  dubai: [25.2048, 55.2708],
  sydney: [-33.8688, 151.2093]
} as const

// Reference: WGS84 geodesic distances (Vincenty), km. Haversine on the mean sphere is within 0.5 %.
const CASES: [keyof typeof P, keyof typeof P, number][] = [
  ['tehran', 'karaj', 43.99],
  ['tehran', 'isfahan', 337.6],
  ['london', 'paris', 343.92],
  ['tehran', 'mashhad', 744.56],
  ['tehran', 'dubai', 1220.32],
  ['newYork', 'losAngeles', 3944.42],
  ['london', 'sydney', 16989.3]
]

for (const [a, b, km] of CASES) {
  test(`haversine ${a}–${b} is ${km} km ± 0.5 %`, () => {
    const d = haversineKm(P[a][0], P[a][1], P[b][0], P[b][1])
    assert.ok(Math.abs(d - km) / km < 0.005, `${d} km`)
  })
}

test('haversine is 0 for the same point and symmetric', () => {
  assert.equal(haversineKm(35.7, 51.4, 35.7, 51.4), 0)
  const [a, b] = [P.tehran, P.paris]
  assert.equal(haversineKm(a[0], a[1], b[0], b[1]), haversineKm(b[0], b[1], a[0], a[1]))
})

test('antipodal points are half a great circle apart, without NaN', () => {
  assert.ok(Math.abs(haversineKm(10, 20, -10, -160) - Math.PI * EARTH_RADIUS_KM) < 1e-3)
})

test('northOf places a point at the given distance', () => {
  for (const km of [0.1, 1, 49.9, 50, 50.1, 500]) {
    const p = northOf(35.6892, 51.389, km)
    assert.ok(Math.abs(haversineKm(35.6892, 51.389, p.lat, p.lng) - km) < 1e-9, `${km}`)
  }
})
