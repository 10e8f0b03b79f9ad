// Writes a known set of points to FORESIGHT with the official InfluxDB JavaScript client,
// unchanged: InfluxDB 2.x API, token auth, gzip for large bodies (the client's own threshold).
// Then reads them back through /query with a read token. The client's QueryApi speaks only Flux
// (InfluxQL support was removed from it, influxdb-client-js#196), so the read goes through the
// client's own transport, as its management APIs do: its Token auth and its JSON handling.
// Usage: node influx_client.mjs <url> <write token> <read token>
import {InfluxDB, Point} from '@influxdata/influxdb-client'

const [url, token, readToken] = process.argv.slice(2)
const writeApi = new InfluxDB({url, token}).getWriteApi('my-org', 'my-bucket', 'ns', {
  batchSize: 1000,
  maxRetries: 0,
})
const base = 1700000000000000000n
for (let i = 0; i < 200; i++) {
  writeApi.writePoint(
    new Point('pump room')
      .tag('asset_id', 'pump,7')
      .tag('site', 'north=1')
      .floatField('temperature', 60 + i / 4)
      .intField('cycles', i * 1000)
      .uintField('count', i)
      .booleanField('running', i % 2 === 0)
      .stringField('state', `ok "${i}"`)
      .timestamp((base + BigInt(i) * 1000000000n).toString()))
}
await writeApi.close()
console.log('wrote 200 points')

const q = 'SELECT count(temperature), last(temperature), sum(cycles) FROM "pump room" ' +
  "WHERE asset_id = 'pump,7'"
const answer = await new InfluxDB({url, token: readToken}).transport.request(
  `/query?db=my-bucket&epoch=ns&q=${encodeURIComponent(q)}`, '', {method: 'GET'})
const series = answer.results[0].series[0]
console.log(`read ${series.columns.join(' ')}: ${series.values[0].join(' ')}`)
let refused = ''
try {
  await new InfluxDB({url, token}).transport.request(`/query?q=${encodeURIComponent(q)}`, '',
    {method: 'GET'})
} catch (e) {
  refused = `${e.statusCode}`
}
console.log(`the write token reading: ${refused}`)
