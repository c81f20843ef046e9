import t from 'tap'
import { RouteMethods } from '../../src/http/route-methods.js'

t.test('the methods a path answers, from the routes as registered', async (t) => {
  const r = new RouteMethods()
  r.add('/v1/messages', 'POST')
  r.add('/v1/messages/:id', ['GET', 'HEAD'])
  r.add('/v1/inbox/:id/ack', 'post')
  r.add('/files/*', 'GET')
  r.add('/a.b', 'GET')
  t.same(r.allowed('/v1/messages'), ['POST'])
  t.same(r.allowed('/v1/messages/m-1'), ['GET', 'HEAD'])
  t.same(r.allowed('/v1/inbox/m-1/ack'), ['POST'], 'methods in upper case')
  t.same(r.allowed('/files/x/y/z'), ['GET'], 'a wildcard takes the rest of the path')
  t.same(r.allowed('/v1/messages/'), [], 'a parameter is never empty')
  t.same(r.allowed('/v1/messages/a/b'), [], 'nor more than one segment')
  t.same(r.allowed('/aXb'), [], 'a dot in a path is a dot')
  t.same(r.allowed('/v1/nothing'), [])
})
