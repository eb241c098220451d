// Test-only: makes discord-digital-twin's one gateway behave like Discord's sharded gateway,
// so the e2e tests can run several shard processes against it (see twin.mjs, TWIN_SHARD_COUNT).
//
// The twin (0.1.1) ignores IDENTIFY's `shard`, sends READY without `shard`, sends every guild
// to every connection and broadcasts every event to every identified connection. Every
// dispatch it sends goes through `gateway.sendDispatch(client, event, data)` and every
// client frame through `gateway.handleMessage(client, raw)`, both called as `this.x(...)`, so
// replacing them on the gateway instance routes everything without touching the package:
//
// - IDENTIFY's `shard: [id, count]` is recorded on the connection (absent: [0, 1], one shard
//   owning every guild, as on Discord); an id outside the count is closed with 4010
//   (Invalid shard), as Discord does.
// - READY carries that `shard` and lists only the connection's guilds.
// - A guild-scoped dispatch (GUILD_CREATE/UPDATE/DELETE by `id`, anything else by `guild_id`)
//   goes only to connections whose shard owns the guild: `(guild_id >> 22) % count`.
// - A dispatch with no guild (a DM's MESSAGE_CREATE or INTERACTION_CREATE, for which the
//   twin sends `guild_id: ''` or none) goes to shard 0 only: "DMs will only be sent to
//   shard 0" (Discord's gateway documentation).
//
// Not modelled: RESUME (the twin does not handle it; a dropped connection re-IDENTIFYs), and
// events Discord sends to every shard (none that the bot relies on).

const GATEWAY_IDENTIFY = 2
const GUILD_EVENTS_BY_ID = new Set(['GUILD_CREATE', 'GUILD_UPDATE', 'GUILD_DELETE'])

/** The shard that owns `guildId` among `count` shards: Discord's formula. */
export function shardOf(guildId, count) {
  return Number((BigInt(guildId) >> 22n) % BigInt(count))
}

/** A valid snowflake owned by shard `shard` of `count` (timestamp part picked for it). */
export function guildIdOnShard(shard, count, index = 0) {
  // 2024-01-01 in Discord-epoch milliseconds; any value works, a real-looking one is kinder.
  const base = 1704067200000n - 1420070400000n + BigInt(index) * BigInt(count)
  const timestamp = base - (base % BigInt(count)) + BigInt(shard)
  return ((timestamp << 22n) | BigInt(index + 1)).toString()
}

function guildOf(event, data) {
  const id = GUILD_EVENTS_BY_ID.has(event) ? data?.id : data?.guild_id
  return id ? String(id) : null
}

function owns(shard, guildId) {
  const [id, count] = shard
  return guildId === null ? id === 0 : shardOf(guildId, count) === id
}

/**
 * Route `gateway`'s dispatches by shard. Returns the record the tests read:
 * `identified` (one `{session, shard}` per IDENTIFY) and `deliveries` (one
 * `{event, shard, guildId, id}` per dispatch actually sent).
 */
export function routeShards(gateway) {
  const record = { identified: [], deliveries: [] }
  const handleMessage = gateway.handleMessage.bind(gateway)
  const sendDispatch = gateway.sendDispatch.bind(gateway)

  gateway.handleMessage = async (client, raw) => {
    const payload = JSON.parse(raw)
    if (payload.op === GATEWAY_IDENTIFY) {
      const [id, count] = payload.d?.shard ?? [0, 1]
      if (!(Number.isInteger(id) && Number.isInteger(count) && id >= 0 && id < count)) {
        client.ws.close(4010, 'Invalid shard')
        return
      }
      client.shard = [id, count]
      record.identified.push({ session: client.sessionId, shard: client.shard })
    }
    return handleMessage(client, raw)
  }

  gateway.sendDispatch = (client, event, data) => {
    const shard = client.shard ?? [0, 1]
    if (event === 'READY') {
      const guilds = data.guilds.filter((g) => owns(shard, String(g.id)))
      sendDispatch(client, event, { ...data, shard, guilds })
      record.deliveries.push({ event, shard: shard[0], guildId: null, id: null })
      return
    }
    const guildId = guildOf(event, data)
    if (!owns(shard, guildId)) return
    sendDispatch(client, event, data)
    record.deliveries.push({ event, shard: shard[0], guildId, id: data?.id ?? null })
  }
  return record
}
