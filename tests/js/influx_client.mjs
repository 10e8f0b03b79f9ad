// Writes a known set of points to FORESIGHT with the official InfluxDB JavaScript client,
// unchanged: InfluxDB 2.x API, token auth, gzip for large bodies (the client's own threshold).
// Usage: node influx_client.mjs <url> <token>
import {InfluxDB, Point} from '@influxdata/influxdb-client'

const [url, token] = process.argv.slice(2)
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
