// Drives the test server with an official Node.js client and checks the answers.
//
//   node clients.js <mode> <url> [docs]
//   mode: elastic          @elastic/elasticsearch 9.x as shipped (compatible-with=9 headers)
//         elastic-compat8  the same client with a transport sending compatible-with=8
//                          headers, the way to talk to an Elasticsearch 8 cluster with it
//         elastic-on-es8   the shipped client against an 8.x node: every request must be
//                          refused with 400 media_type_header_exception, as a real 8.x does
//         opensearch       @opensearch-project/opensearch 3.x
// Needs NODE_PATH to reach the node_modules that hold the clients. Prints one line per
// check and, last, "N passed, N failed".
'use strict'

const assert = require('assert')

const mode = process.argv[2]
const url = process.argv[3]
const NDOCS = parseInt(process.argv[4] || '3000', 10)
let passed = 0
let failed = 0

function ok (name) { passed++; console.log('ok   ' + name) }
function fail (name, err) {
  failed++
  console.log('FAIL ' + name + ': ' + (err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : err))
}

async function check (name, fn) {
  try { await fn(); ok(name) } catch (e) { fail(name, e) }
}

// The two clients differ in shape: @elastic returns bodies and takes top-level params,
// @opensearch returns {body, statusCode} and takes a `body` param.
function makeApi (kind, client) {
  const os = kind === 'opensearch'
  const b = (r) => (os ? r.body : r)
  const withBody = (params, body) => (os ? Object.assign({}, params, { body }) : Object.assign({}, params, body))
  return {
    client,
    os,
    info: async () => b(await client.info()),
    create: async (index, body) => b(await client.indices.create(withBody({ index }, body))),
    exists: async (index) => {
      const r = await client.indices.exists({ index })
      return os ? r.body : r
    },
    index: async (index, id, doc, extra) =>
      b(await client.index(Object.assign({ index, id }, extra || {}, os ? { body: doc } : { document: doc }))),
    get: async (index, id) => b(await client.get({ index, id })),
    del: async (index, id, extra) => b(await client.delete(Object.assign({ index, id }, extra || {}))),
    count: async (index, query) => b(await client.count(withBody({ index }, query ? { query } : {}))),
    refresh: async (index) => b(await client.indices.refresh({ index })),
    search: async (params, body) => b(await client.search(withBody(params, body))),
    scroll: async (scrollId) => b(await client.scroll(withBody({}, { scroll_id: scrollId, scroll: '1m' }))),
    clearScroll: async (scrollId) => b(await client.clearScroll(withBody({}, { scroll_id: scrollId }))),
    openPit: async (index) => {
      if (os) return (await client.createPit({ index, keep_alive: '1m' })).body.pit_id
      return (await client.openPointInTime({ index, keep_alive: '1m' })).id
    },
    closePit: async (id) => {
      if (os) return (await client.deletePit({ body: { pit_id: [id] } })).body
      return client.closePointInTime({ id })
    },
    deleteIndex: async (index) => b(await client.indices.delete({ index })),
    mapping: async (index) => b(await client.indices.getMapping({ index })),
    catIndices: async () => b(await client.cat.indices({ format: 'json' }))
  }
}

function loadClient (kind) {
  if (kind === 'opensearch') {
    const { Client } = require('@opensearch-project/opensearch')
    return new Client({ node: url })
  }
  const { Client, Transport } = require('@elastic/elasticsearch')
  if (kind === 'elastic-compat8') {
    // The 9.x client pins compatible-with=9 in its transport; an application that must talk
    // to an 8.x cluster with it can only swap these vendored headers (or use the 8.x client).
    class Transport8 extends Transport {
      constructor (opts) {
        super(Object.assign({}, opts, {
          vendoredHeaders: {
            jsonContentType: 'application/vnd.elasticsearch+json; compatible-with=8',
            ndjsonContentType: 'application/vnd.elasticsearch+x-ndjson; compatible-with=8',
            accept: 'application/vnd.elasticsearch+json; compatible-with=8,text/plain'
          }
        }))
      }
    }
    return new Client({ node: url, Transport: Transport8 })
  }
  return new Client({ node: url })
}

async function refusedByEs8 () {
  const client = loadClient('elastic')
  for (const [name, fn] of [
    ['info', () => client.info()],
    ['indices.create', () => client.indices.create({ index: 'x' })],
    ['bulk', () => client.bulk({ operations: [{ index: { _index: 'x', _id: '1' } }, { a: 1 }] })]
  ]) {
    await check('9.x client refused by 8.x node: ' + name, async () => {
      try {
        await fn()
      } catch (e) {
        assert.strictEqual(e.meta && e.meta.statusCode, 400, 'status ' + (e.meta && e.meta.statusCode))
        const err = e.meta.body.error
        assert.strictEqual(err.type, 'media_type_header_exception')
        assert.match(err.caused_by.reason, /Accept version must be either version 8 or 7, but found 9/)
        return
      }
      throw new Error('request was accepted')
    })
  }
}

async function main () {
  if (mode === 'elastic-on-es8') {
    await refusedByEs8()
    console.log(passed + ' passed, ' + failed + ' failed')
    process.exit(failed ? 1 : 0)
  }
  const kind = mode === 'opensearch' ? 'opensearch' : (mode === 'elastic-compat8' ? 'elastic-compat8' : 'elastic')
  const api = makeApi(kind === 'opensearch' ? 'opensearch' : 'elastic', loadClient(kind))
  const client = api.client
  const index = 'clients-' + mode

  await check('info', async () => {
    const r = await api.info()
    assert.ok(r.version && r.version.number, 'version.number')
    assert.ok(r.cluster_name)
  })
  await check('create index with mappings', async () => {
    const r = await api.create(index, {
      settings: { number_of_shards: 2, number_of_replicas: 0, refresh_interval: '-1' },
      mappings: { properties: { id: { type: 'keyword' }, n: { type: 'long' }, name: { type: 'text' } } }
    })
    assert.strictEqual(r.acknowledged, true)
    assert.strictEqual(await api.exists(index), true)
  })
  await check('create existing index -> 400 resource_already_exists_exception', async () => {
    try { await api.create(index, {}) } catch (e) {
      assert.strictEqual(e.meta.statusCode, 400)
      assert.strictEqual(e.meta.body.error.type, 'resource_already_exists_exception')
      return
    }
    throw new Error('no error')
  })
  await check('index + get', async () => {
    const r = await api.index(index, 'first', { id: 'first', n: 1, name: 'first document' })
    assert.strictEqual(r.result, 'created')
    assert.strictEqual(r._version, 1)
    const g = await api.get(index, 'first')
    assert.strictEqual(g.found, true)
    assert.deepStrictEqual(g._source, { id: 'first', n: 1, name: 'first document' })
  })
  await check('get missing -> 404', async () => {
    try { await api.get(index, 'nope') } catch (e) {
      assert.strictEqual(e.meta.statusCode, 404)
      assert.strictEqual(e.meta.body.found, false)
      return
    }
    throw new Error('no error')
  })
  await check('if_seq_no conflict -> 409', async () => {
    try { await api.index(index, 'first', { id: 'first', n: 2 }, { if_seq_no: 99, if_primary_term: 1 }) } catch (e) {
      assert.strictEqual(e.meta.statusCode, 409)
      assert.strictEqual(e.meta.body.error.type, 'version_conflict_engine_exception')
      return
    }
    throw new Error('no error')
  })
  await check('mapping error -> 400 mapper_parsing_exception', async () => {
    try { await api.index(index, 'bad', { id: 'bad', n: 'two' }) } catch (e) {
      assert.strictEqual(e.meta.statusCode, 400)
      assert.strictEqual(e.meta.body.error.type, 'mapper_parsing_exception')
      assert.strictEqual(e.meta.body.error.caused_by.type, 'number_format_exception')
      return
    }
    throw new Error('no error')
  })
  await check('helpers.bulk ' + NDOCS + ' documents', async () => {
    const docs = []
    for (let i = 0; i < NDOCS; i++) docs.push({ id: 'doc-' + String(i).padStart(6, '0'), n: i, name: 'document number ' + i })
    const stats = await client.helpers.bulk({
      datasource: docs,
      onDocument (doc) { return { index: { _index: index, _id: doc.id } } },
      refreshOnCompletion: true,
      flushBytes: 100000
    })
    assert.strictEqual(stats.failed, 0, 'failed ' + stats.failed)
    assert.strictEqual(stats.successful, NDOCS)
  })
  await check('helpers.bulk reports mapping failures per item', async () => {
    const dropped = []
    const stats = await client.helpers.bulk({
      datasource: [{ id: 'ok-1', n: 1 }, { id: 'bad-1', n: 'not a number' }],
      onDocument (doc) { return { index: { _index: index, _id: doc.id } } },
      onDrop (d) { dropped.push(d) },
      refreshOnCompletion: index
    })
    assert.strictEqual(stats.successful, 1)
    assert.strictEqual(stats.failed, 1)
    assert.strictEqual(dropped.length, 1)
    assert.strictEqual(dropped[0].status, 400)
    assert.strictEqual(dropped[0].error.type, 'mapper_parsing_exception')
  })
  await check('count', async () => {
    const r = await api.count(index)
    assert.strictEqual(r.count, NDOCS + 2)
    const r2 = await api.count(index, { range: { n: { gte: 10, lt: 20 } } })
    assert.strictEqual(r2.count, 10)
  })
  await check('search_after with a point in time', async () => {
    const pit = await api.openPit(index)
    const seen = new Set()
    let after
    let pages = 0
    for (;;) {
      const body = { size: 500, pit: { id: pit, keep_alive: '1m' }, sort: [{ id: 'asc' }], _source: false }
      if (after) body.search_after = after
      const r = await api.search({}, body)
      const hits = r.hits.hits
      if (hits.length === 0) break
      for (const h of hits) {
        assert.ok(!seen.has(h._id), 'duplicate ' + h._id)
        seen.add(h._id)
      }
      after = hits[hits.length - 1].sort
      pages++
    }
    assert.strictEqual(seen.size, NDOCS + 2)
    assert.ok(pages >= Math.ceil(NDOCS / 500))
    await api.closePit(pit)
  })
  await check('scroll + clear scroll', async () => {
    let r = await api.search({ index, scroll: '1m' }, { size: 700, sort: ['_doc'], _source: ['id'] })
    const ids = new Set()
    let scrollId = r._scroll_id
    while (r.hits.hits.length) {
      for (const h of r.hits.hits) { ids.add(h._id); assert.ok(h._source.id) }
      r = await api.scroll(scrollId)
      scrollId = r._scroll_id
    }
    assert.strictEqual(ids.size, NDOCS + 2)
    const c = await api.clearScroll(scrollId)
    assert.strictEqual(c.succeeded, true)
    assert.strictEqual(c.num_freed, 1)
  })
  await check('helpers.scrollDocuments', async () => {
    let n = 0
    const params = { index, scroll: '30s', size: 1000 }
    const body = { query: { match_all: {} } }
    const args = api.os ? Object.assign({}, params, { body }) : Object.assign({}, params, body)
    for await (const doc of client.helpers.scrollDocuments(args)) {
      assert.ok(doc.id)
      n++
    }
    assert.strictEqual(n, NDOCS + 2)
  })
  await check('delete document, near-real-time count', async () => {
    const r = await api.del(index, 'first')
    assert.strictEqual(r.result, 'deleted')
    assert.strictEqual((await api.count(index)).count, NDOCS + 2, 'not yet refreshed')
    await api.refresh(index)
    assert.strictEqual((await api.count(index)).count, NDOCS + 1)
  })
  await check('_cat/indices format=json', async () => {
    const rows = await api.catIndices()
    const row = rows.find((x) => x.index === index)
    assert.ok(row)
    assert.strictEqual(row['docs.count'], String(NDOCS + 1))
    assert.strictEqual(row.health, 'green')
  })
  await check('delete index', async () => {
    const r = await api.deleteIndex(index)
    assert.strictEqual(r.acknowledged, true)
    assert.strictEqual(await api.exists(index), false)
  })
  console.log(passed + ' passed, ' + failed + ' failed')
  process.exit(failed ? 1 : 0)
}

main().catch((e) => { fail('unexpected', e); console.log(passed + ' passed, ' + failed + ' failed'); process.exit(1) })
