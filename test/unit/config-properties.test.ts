import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseProperties, readProperties } from '../../src/config/properties.ts'
import { parseJaas } from '../../src/config/jaas.ts'
import { editDistance } from '../../src/config/kafka-keys.ts'

const entries = (text: string) => parseProperties(text, 'f.properties').map(p => [p.key, p.value, p.line])

test('properties: the three separators, with whitespace around them dropped', () => {
  assert.deepEqual(entries('a=1\nb: 2\nc 3\n  d  =  4  \ne\t:\tfive\nf\n'), [
    ['a', '1', 1],
    ['b', '2', 2],
    ['c', '3', 3],
    ['d', '4', 4],
    ['e', 'five', 5],
    ['f', '', 6]
  ])
  // Only the first separator splits: the value keeps later ones.
  assert.deepEqual(entries('url=a=b:c d'), [['url', 'a=b:c d', 1]])
  assert.deepEqual(entries('key = = x'), [['key', '= x', 1]])
})

test('properties: comments with # and !, blank lines, CRLF and a BOM', () => {
  const text =
    '\uFEFF# comment\r\n! also a comment\r\n\r\n   \r\n  # indented comment\r\nx=1 # not a comment\r\n'
  assert.deepEqual(entries(text), [['x', '1 # not a comment', 6]])
})

test('properties: a trailing backslash continues the line; the next line loses its indent', () => {
  const text = 'servers=a:1,\\\n        b:2,\\\n        c:3\nnext=ok\n'
  assert.deepEqual(entries(text), [
    ['servers', 'a:1,b:2,c:3', 1],
    ['next', 'ok', 4]
  ])
  // An even number of backslashes is an escaped backslash, not a continuation.
  assert.deepEqual(entries('path=C:\\\\\nx=1'), [
    ['path', 'C:\\', 1],
    ['x', '1', 2]
  ])
  // A continued line starting with # is content, not a comment.
  assert.deepEqual(entries('k=a\\\n#b'), [['k', 'a#b', 1]])
  // A continuation at the end of the file just ends the value.
  assert.deepEqual(entries('k=a\\'), [['k', 'a', 1]])
})

test('properties: escapes in keys and values', () => {
  assert.deepEqual(entries('a\\=b=c\\:d'), [['a=b', 'c:d', 1]])
  assert.deepEqual(entries('sp\\ ace=1'), [['sp ace', '1', 1]])
  assert.deepEqual(entries('t=a\\tb\\nc\\rd\\fe'), [['t', 'a\tb\nc\rd\fe', 1]])
  assert.deepEqual(entries('u=caf\\u00e9 \\u0041'), [['u', 'café A', 1]])
  assert.deepEqual(entries('x=\\q\\#\\!'), [['x', 'q#!', 1]])
  // Trailing whitespace is dropped unless escaped.
  assert.deepEqual(entries('p=secret   \nq=keep\\ '), [
    ['p', 'secret', 1],
    ['q', 'keep ', 2]
  ])
  assert.throws(() => entries('u=\\u12'), /f\.properties:1: malformed \\u escape/)
})

test('properties: a key given twice keeps both entries in order (the reader takes the last)', () => {
  assert.deepEqual(entries('a=1\na=2'), [
    ['a', '1', 1],
    ['a', '2', 2]
  ])
})

test('properties: a missing file is one line naming it and the fix', () => {
  assert.throws(
    () => readProperties('/nonexistent/client.properties', '--kafka-config'),
    (e: Error) =>
      e.message ===
      "--kafka-config: cannot read '/nonexistent/client.properties' (ENOENT): give the path of a readable properties file"
  )
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-props-'))
  writeFileSync(join(dir, 'ok.properties'), 'a=1\n')
  assert.equal(
    readProperties(join(dir, 'ok.properties'), '--kafka-config')[0]!.file,
    join(dir, 'ok.properties')
  )
})

test('jaas: SCRAM and PLAIN login modules, quoted and bare values, escapes', () => {
  assert.deepEqual(
    parseJaas(
      'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p@ss w\\"rd";'
    ),
    { family: 'SCRAM', username: 'alice', password: 'p@ss w"rd' }
  )
  assert.deepEqual(
    parseJaas(
      'org.apache.kafka.common.security.plain.PlainLoginModule   required\n  username=KEY  password="S=;x" ;'
    ),
    { family: 'PLAIN', username: 'KEY', password: 'S=;x' }
  )
  assert.deepEqual(parseJaas('org.apache.kafka.common.security.plain.PlainLoginModule required;'), {
    family: 'PLAIN'
  })
  const bad = [
    'username="a" password="b";',
    'software.amazon.msk.auth.iam.IAMLoginModule required;',
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="a password="b";'
  ]
  for (const text of bad) {
    const r = parseJaas(text)
    assert.ok('problem' in r, text)
    // The reason never repeats the text (it may hold a password).
    assert.ok(!r.problem.includes('password="b"'))
  }
})

test('edit distance: substitutions, insertions, deletions and swaps count one each', () => {
  assert.equal(editDistance('sasl.pasword', 'sasl.password'), 1)
  assert.equal(editDistance('bootstrap.server', 'bootstrap.servers'), 1)
  assert.equal(editDistance('sasl.mechansim', 'sasl.mechanism'), 1)
  assert.ok(editDistance('acks', 'client.id') > 2)
  assert.equal(editDistance('abc', 'abc'), 0)
})
