import t from 'tap'
import { KEYS, NOTE, headers, startHub, startSink, until, withOperator } from '../helpers/hub.js'
import { egif } from '../helpers/egif.js'



t.test('operators list dead letters and replay them, from the API and the CLI', async (t) => {
  const sink = await startSink(t)
  let refuse = true
  sink.answer = () => ({ status: refuse ? 422 : 200 })
  const { app, hub } = await startHub(t, { pushUrl: sink.url, patch: withOperator })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  for (const id of ['dl-1', 'dl-2', 'dl-3']) {
    await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(id), headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C', 'egif-message-id': id }) })
  }
  await until(async () => (await hub.store.deadLetters()).length === 3, 'three dead letters')

  t.equal((await app.inject({ url: '/v1/admin/dead-letters', headers: headers(KEYS.A, {}) })).statusCode, 403, 'participants are not operators')
  const list = await app.inject({ url: '/v1/admin/dead-letters', headers: headers(KEYS.OPERATOR, {}) })
  t.equal(list.statusCode, 200)
  t.match(list.json().deadLetters, [
    { message: 'TH-A/dl-1', receiver: 'TH-C', attempts: 1, code: 'EGIF_ERR_DELIVERY_PERMANENT', reason: /answered 422/ },
    { message: 'TH-A/dl-2' },
    { message: 'TH-A/dl-3' }
  ])

  refuse = false
  const one = await app.inject({ method: 'POST', url: '/v1/admin/dead-letters/replay', payload: JSON.stringify({ messages: ['TH-A/dl-1', 'TH-A/nope'] }), headers: headers(KEYS.OPERATOR, { 'content-type': 'application/json' }) })
  t.same(one.json(), { replayed: ['TH-A/dl-1'], notFound: ['TH-A/nope'], notDead: [] })
  await until(async () => (await hub.store.get('TH-A', 'dl-1'))?.state === 'delivered', 'replayed message delivered')
  const m = (await hub.store.get('TH-A', 'dl-1'))!
  t.same(m.events.map((e) => e.type), ['accepted', 'dead-lettered', 'replayed', 'delivered'])
  t.equal(m.events[2].by, 'OPS', 'the replay names the operator')
  const bad = await app.inject({ method: 'POST', url: '/v1/admin/dead-letters/replay', payload: '{"messages": "all"}', headers: headers(KEYS.OPERATOR, { 'content-type': 'application/json' }) })
  t.equal(bad.statusCode, 400)

  const cliList = await egif(['dead-letters', 'list', '--hub', url, '--key', KEYS.OPERATOR])
  t.equal(cliList.code, 0, cliList.err)
  t.match(cliList.out, /TH-A\/dl-2\tto TH-C\t1 attempts\tEGIF_ERR_DELIVERY_PERMANENT/)
  t.notMatch(cliList.out, /dl-1/)
  const cliReplay = await egif(['dead-letters', 'replay', '--all', '--hub', url, '--key', KEYS.OPERATOR])
  t.equal(cliReplay.code, 0, cliReplay.err)
  t.match(cliReplay.out, /replayed 2: TH-A\/dl-2, TH-A\/dl-3/)
  await until(async () => (await hub.store.deadLetters()).length === 0 && (await hub.store.get('TH-A', 'dl-3'))?.state === 'delivered', 'all replayed and delivered')
  const notDead = await egif(['dead-letters', 'replay', 'TH-A/dl-1', '--hub', url, '--key', KEYS.OPERATOR])
  t.equal(notDead.code, 1)
  t.match(notDead.out, /not dead letters: TH-A\/dl-1/)
  t.equal((await egif(['dead-letters', 'list', '--hub', url, '--key', KEYS.A])).code, 1, 'a participant key is refused')
})

t.test('a replay starts the attempts again from one', async (t) => {
  const sink = await startSink(t)
  sink.answer = () => ({ status: 503 })
  const { app, hub } = await startHub(t, { pushUrl: sink.url, patch: withOperator })
  await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE('again'), headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C', 'egif-message-id': 'again-1' }) })
  await until(async () => (await hub.store.get('TH-A', 'again-1'))?.state === 'dead-lettered', 'dead letter after 3 attempts')
  t.equal(sink.requests.length, 3)
  await app.inject({ method: 'POST', url: '/v1/admin/dead-letters/replay', payload: '{"messages":["TH-A/again-1"]}', headers: headers(KEYS.OPERATOR, { 'content-type': 'application/json' }) })
  await until(async () => (await hub.store.get('TH-A', 'again-1'))!.events.filter((e) => e.type === 'dead-lettered').length === 2, 'dead letter again after 3 more attempts')
  t.equal(sink.requests.length, 6, 'the replay got the full 3 attempts again')
  const after = (await hub.store.get('TH-A', 'again-1'))!.events.slice(-4)
  t.same(after.map((e) => [e.type, e.attempt]), [['replayed', undefined], ['attempt-failed', 1], ['attempt-failed', 2], ['dead-lettered', 3]])
})

t.test('replays of one dead letter at once: one replayed event and record, one delivery', async (t) => {
  const sink = await startSink(t)
  let refuse = true
  sink.answer = () => ({ status: refuse ? 422 : 200 })
  const { app, hub } = await startHub(t, { pushUrl: sink.url, patch: withOperator })
  await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE('once'), headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C', 'egif-message-id': 'once-1' }) })
  await until(async () => (await hub.store.get('TH-A', 'once-1'))?.state === 'dead-lettered', 'dead letter')
  refuse = false
  const answers = await Promise.all(Array.from({ length: 4 }, async () => (await app.inject({ method: 'POST', url: '/v1/admin/dead-letters/replay', payload: '{"messages":["TH-A/once-1"]}', headers: headers(KEYS.OPERATOR, { 'content-type': 'application/json' }) })).json()))
  t.equal(answers.filter((a) => a.replayed.length === 1).length, 1, 'one request replayed it')
  t.equal(answers.filter((a) => a.notDead.length === 1).length, 3, 'the others found it no longer dead')
  await until(async () => (await hub.store.get('TH-A', 'once-1'))?.state === 'delivered', 'delivered')
  t.same((await hub.store.get('TH-A', 'once-1'))!.events.map((e) => e.type), ['accepted', 'dead-lettered', 'replayed', 'delivered'])
  t.same(hub.trail.search({ messageId: 'once-1' }).records.map((r) => r.type), ['accepted', 'dead-lettered', 'replayed', 'delivered'], 'one replayed record')
  t.equal(sink.requests.length, 2, 'the refused attempt and one delivery')
})
