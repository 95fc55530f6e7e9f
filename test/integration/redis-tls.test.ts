import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rootCertificates } from 'node:tls'
import { RedisDecisionStore } from '../../src/adapters/redis/decision-store.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { redisTls, uniqueName } from '../helpers/services.ts'

// A real CA (the first of Node's bundle) that did not sign this Redis's certificate.
const OTHER_CA = rootCertificates[0]!

test('Redis over TLS as an ACL user: the state store and the decision store work with the given CA', async t => {
  const tls = redisTls()
  assert.match(tls.url, /^rediss:\/\/darooghe:[^@]+@/)
  const keyPrefix = `${uniqueName('tls')}:`
  const store = await RedisStateStore.connect({ url: tls.url, ca: tls.ca, keyPrefix })
  t.after(async () => {
    await store.clear()
    await store.close()
  })
  assert.equal(await store.ping(), true)
  await store.writeBatch([['{t:0}p', '1']], [], [['{t:0}p', null]], [['{t:0}j', Buffer.from('ab')]])
  assert.deepEqual(await store.getMany(['{t:0}p']), ['1'])
  assert.deepEqual(await store.getManyBytes(['{t:0}j']), [Buffer.from('ab')])

  const decisions = await RedisDecisionStore.connect({ url: tls.url, ca: tls.ca, keyPrefix })
  t.after(() => decisions.close())
  const entry = { state: 'pending', fingerprint: 'f', correlationId: 'c', receivedAtMs: 1 } as const
  assert.equal(await decisions.claim('tx-1', entry, 60_000), null)
  assert.deepEqual(await decisions.claim('tx-1', { ...entry, correlationId: 'd' }, 60_000), entry)
  assert.deepEqual(await decisions.get('tx-1'), entry)
})

test('Redis over TLS: a certificate the given CA did not sign fails at once, in one line, not retriable', async () => {
  const tls = redisTls()
  const password = new URL(tls.url).password
  for (const connect of [
    () => RedisStateStore.connect({ url: tls.url, ca: OTHER_CA }),
    () => RedisStateStore.connect({ url: tls.url }),
    () => RedisDecisionStore.connect({ url: tls.url, ca: OTHER_CA })
  ]) {
    await assert.rejects(connect(), (e: Error & { code?: string; retriable?: boolean }) => {
      assert.equal(e.code, 'DAROOGHE_ERR_REDIS')
      assert.equal(e.retriable, false)
      assert.match(
        e.message,
        /TLS certificate of Redis at rediss:\/\/darooghe:\*\*\*@.* is not trusted \(.+\): give the CA that signed it with --redis-ca/
      )
      assert.ok(!e.message.includes(password), 'no password in the message')
      assert.ok(!e.message.includes('\n'), 'one line')
      return true
    })
  }
})

test('Redis over TLS: a wrong password is refused at once, in one line, without the password', async () => {
  const tls = redisTls()
  const wrong = new URL(tls.url)
  wrong.password = 'not-the-password-42'
  for (const connect of [
    () => RedisStateStore.connect({ url: wrong.toString(), ca: tls.ca }),
    () => RedisDecisionStore.connect({ url: wrong.toString(), ca: tls.ca })
  ]) {
    const started = Date.now()
    await assert.rejects(connect(), (e: Error & { code?: string; retriable?: boolean }) => {
      assert.equal(e.code, 'DAROOGHE_ERR_REDIS')
      assert.equal(e.retriable, false)
      assert.match(e.message, /refused this client \(WRONGPASS\): fix the user and password in --redis/)
      assert.ok(!e.message.includes('not-the-password-42'), 'no password in the message')
      assert.ok(!e.message.includes('\n'), 'one line')
      return true
    })
    assert.ok(Date.now() - started < 3_000, 'no retries')
  }
})
