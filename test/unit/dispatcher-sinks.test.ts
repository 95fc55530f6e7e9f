import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { FileAlertSink, payload } from '../../src/apps/dispatcher/index.ts'
import type { Alert } from '../../src/ports/alert-sink.ts'

const a: Alert = {
  alert_id: 'alert-1',
  created_at: '2026-01-01T00:00:00.000Z',
  severity: 'high',
  customer_id: 'cust_1',
  transaction_id: 'tx-1',
  risk_score: 95,
  rules_fired: ['impossible_travel'],
  trace: { impossible_travel: { fired: true, km: 63.2, minutes: 4 } },
  decision: 'fraud'
}

test('file sink: a line torn by a crash is cut off on reopen, then whole lines are appended', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'darooghe-file-')), 'alerts.log')
  writeFileSync(path, `${JSON.stringify(a)}\n{"alert_id":"alert-2","crea`)
  const sink = new FileAlertSink(path)
  await sink.deliver({ ...a, alert_id: 'alert-3' })
  await sink.close()
  const lines = readFileSync(path, 'utf8').split('\n')
  assert.equal(lines.pop(), '', 'ends with a newline')
  assert.deepEqual(
    lines.map(l => (JSON.parse(l) as Alert).alert_id),
    ['alert-1', 'alert-3']
  )
})

test('Slack and Discord payloads name the rule and its numbers', () => {
  const slack = payload(a, 'slack') as { text: string; blocks: { text: { text: string } }[] }
  assert.match(slack.text, /customer cust_1, transaction tx-1, risk 95, rules: impossible_travel/)
  assert.match(slack.blocks[1]!.text.text, /impossible_travel: \{"fired":true,"km":63.2,"minutes":4\}/)
  const discord = payload(a, 'discord') as { content: string; embeds: { description: string }[] }
  assert.match(discord.content, /Fraud alert \(high\)/)
  assert.match(discord.embeds[0]!.description, /km":63.2/)
  assert.deepEqual(payload(a, 'json'), a)
})
