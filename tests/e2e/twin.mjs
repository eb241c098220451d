// Test-only harness: starts discord-digital-twin (an in-memory Discord REST + gateway) on
// 127.0.0.1, puts a recording, fault-injecting proxy in front of its REST API, and exposes
// its scripted-user API over a tiny local HTTP control server, so the Python e2e tests can
// drive it. Prints one JSON line with the URLs and ids, then
// serves until stdin closes (the pytest fixture closes it to stop the twin).
//
// TWIN_SHARD_COUNT=N (N > 1; default 1) makes it a sharded Discord for multi-process runs: a
// second guild whose id lands on shard 1 (the first lands on shard 0), the gateway routed by
// shard (shard_router.mjs) and `GET /gateway/bot` answering `shards: N`. With the default,
// nothing below changes: one guild, every event to every connection, as the twin does.
import http from 'node:http'
import { DigitalDiscord } from 'discord-digital-twin'
import { guildIdOnShard, routeShards, shardOf } from './shard_router.mjs'

const GUILD_TEXT = 0
const SHARD_COUNT = Number(process.env.TWIN_SHARD_COUNT ?? '1')
if (!(Number.isInteger(SHARD_COUNT) && SHARD_COUNT >= 1)) {
  throw new Error(`TWIN_SHARD_COUNT must be a positive integer, not ${SHARD_COUNT}`)
}
const SHARDED = SHARD_COUNT > 1
const studyGroup = {
  name: 'MLE Study Group',
  channels: [
    { name: 'general', type: GUILD_TEXT },
    { name: 'ask-here', type: GUILD_TEXT },
    { name: 'nudges', type: GUILD_TEXT },
  ],
}
const guildOptions = SHARDED
  ? {
      guilds: [
        { ...studyGroup, id: guildIdOnShard(0, SHARD_COUNT, 0) },
        {
          id: guildIdOnShard(1, SHARD_COUNT, 1),
          name: 'Second Study Group',
          channels: [
            { name: 'lounge', type: GUILD_TEXT },
            { name: 'lounge-nudges', type: GUILD_TEXT },
          ],
        },
      ],
    }
  : { guild: { name: studyGroup.name }, channels: studyGroup.channels }
const discord = new DigitalDiscord({
  ...guildOptions,
  users: [
    { username: 'alice' },
    { username: 'bob' },
    { username: 'admin' },
    { username: 'carol' },
    { username: 'dave' },
  ],
  botUser: { username: 'MLE Mentor' },
})
await discord.start()
// Installed before any bot connects (the gateway is created by start()).
const routing = SHARDED ? routeShards(discord.server.gateway) : null

const channels = await discord.prisma.channel.findMany({ orderBy: { name: 'asc' } })
const users = await discord.prisma.user.findMany({ where: { bot: false } })
const byName = (rows) => Object.fromEntries(rows.map((r) => [r.name ?? r.username, r.id]))

async function botMessagesAfter(channelId, afterId) {
  const messages = await discord.channel(channelId).getMessages()
  return messages.filter(
    (m) => m.author.id === discord.botUserId && BigInt(m.id) > BigInt(afterId ?? '0'),
  )
}

// The REST front door: discord.py talks to the twin through this small proxy so the tests
// can see what went over the wire and inject faults. It records the JSON body of every
// request (the twin itself drops fields it does not model, such as `allowed_mentions`), and
// answers requests matching an injected fault with that HTTP status instead of forwarding
// them (e.g. a 503 on the command sync). A client may put `/via/TAG` before the path (its
// REST base URL, see Twin.front_url_for): the prefix is stripped and TAG recorded as `via`,
// so tests with several bot processes see which one sent what.
const upstream = new URL(discord.restUrl).origin
const faults = []
const sent = []
const HOP_BY_HOP = ['connection', 'content-length', 'content-encoding', 'transfer-encoding', 'host']

const front = http.createServer(async (request, response) => {
  const chunks = []
  for await (const chunk of request) chunks.push(chunk)
  const body = Buffer.concat(chunks)
  const tagged = /^\/via\/([\w-]+)(\/.*)$/.exec(request.url)
  const via = tagged ? tagged[1] : null
  const path = tagged ? tagged[2] : request.url
  if (body.length && (request.headers['content-type'] ?? '').includes('json')) {
    // Kept as text: JSON.parse would round 64-bit ids (e.g. in allowed_mentions.users).
    sent.push({ seq: sent.length, method: request.method, path, via, raw: body.toString('utf8') })
  }
  const fault = faults.find(
    (f) => f.remaining > 0 && f.method === request.method && new RegExp(f.pathPattern).test(path),
  )
  if (fault) {
    fault.remaining -= 1
    fault.hits += 1
    response.writeHead(fault.status, { 'Content-Type': 'application/json' })
    response.end(JSON.stringify({ message: 'injected fault', code: 0 }))
    return
  }
  const headers = Object.fromEntries(
    Object.entries(request.headers).filter(([key]) => !HOP_BY_HOP.includes(key)),
  )
  try {
    const reply = await fetch(upstream + path, {
      method: request.method,
      headers,
      body: body.length ? body : undefined,
    })
    let out = Buffer.from(await reply.arrayBuffer())
    if (SHARDED && reply.ok && /^\/api\/v\d+\/gateway\/bot\b/.test(path)) {
      // The twin always answers `shards: 1`; Discord recommends the count it shards by.
      out = Buffer.from(JSON.stringify({ ...JSON.parse(out.toString('utf8')), shards: SHARD_COUNT }))
    }
    const replyHeaders = {}
    reply.headers.forEach((value, key) => {
      if (!HOP_BY_HOP.includes(key)) replyHeaders[key] = value
    })
    response.writeHead(reply.status, replyHeaders)
    response.end(out)
  } catch (error) {
    response.writeHead(502, { 'Content-Type': 'application/json' })
    response.end(JSON.stringify({ message: String(error), code: 0 }))
  }
})
await new Promise((resolve) => front.listen(0, '127.0.0.1', resolve))

const actions = {
  async sendMessage({ userId, channelId, content, replyTo }) {
    const reference = replyTo ? { message_id: replyTo, channel_id: channelId } : undefined
    return discord.simulateUserMessage({ channelId, userId, content, messageReference: reference })
  },
  async slash({ userId, channelId, name, options, channelOptions }) {
    if (!channelOptions?.length) {
      return discord.simulateSlashCommand({ channelId, userId, name, options })
    }
    // simulateSlashCommand sends no `resolved` data, which Discord includes for channel
    // options (discord.py turns a channel option into a channel from it). Same payload,
    // plus `resolved.channels` built from the twin's own channel rows.
    const command = await discord.prisma.applicationCommand.findFirst({
      where: { applicationId: discord.botUserId, name, guildId: discord.guildId },
    })
    const resolvedChannels = {}
    for (const id of channelOptions) {
      const row = await discord.prisma.channel.findUniqueOrThrow({ where: { id } })
      resolvedChannels[id] = { id, name: row.name, type: row.type, permissions: '1099511627775' }
    }
    return discord.simulateInteraction({
      type: 2,
      channelId,
      userId,
      data: { id: command.id, name, type: 1, options, resolved: { channels: resolvedChannels } },
    })
  },
  async click({ userId, channelId, messageId, customId }) {
    return discord.simulateButtonClick({ channelId, userId, messageId, customId })
  },
  async select({ userId, channelId, messageId, customId, values }) {
    return discord.simulateSelectMenu({ channelId, userId, messageId, customId, values })
  },
  async submitModal({ userId, channelId, customId, fields }) {
    // A MODAL_SUBMIT (interaction type 5) over the gateway, as Discord sends it when a
    // member presses Submit; `fields` are [{ customId, value }] of the form's text inputs.
    return discord.simulateModalSubmit({ channelId, userId, customId, fields })
  },
  async react({ userId, channelId, messageId, emoji }) {
    // A member's reaction, as Discord dispatches it (the twin only dispatches the bot's own,
    // without `type` and `message_author_id`, which discord.py 2.7 reads).
    const message = await discord.prisma.message.findUniqueOrThrow({ where: { id: messageId } })
    discord.server.gateway.broadcast('MESSAGE_REACTION_ADD', {
      user_id: userId,
      channel_id: channelId,
      message_id: messageId,
      guild_id: discord.guildId,
      message_author_id: message.authorId,
      emoji: { id: null, name: emoji },
      type: 0,
      burst: false,
      burst_colors: [],
    })
    return { ok: true }
  },
  async startThread({ userId, channelId, messageId, name }) {
    // A member opens a thread on a message. The twin's own route does the work (it stores
    // the thread with its starter message and dispatches THREAD_CREATE); as on Discord, the
    // member who opened it owns it. The twin gives the thread an id of its own, where
    // Discord reuses the starter message's id, so the bot cannot rely on the two matching.
    const reply = await fetch(`${discord.restUrl}/v10/channels/${channelId}/messages/${messageId}/threads`, {
      method: 'POST',
      headers: { Authorization: `Bot ${discord.botToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: name ?? 'follow-up', auto_archive_duration: 1440 }),
    })
    if (!reply.ok) throw new Error(`thread not created: ${reply.status} ${await reply.text()}`)
    const thread = await reply.json()
    await discord.prisma.channel.update({ where: { id: thread.id }, data: { ownerId: userId } })
    return { id: thread.id }
  },
  async injectFault({ method, pathPattern, status, count }) {
    faults.push({ method, pathPattern, status, remaining: count ?? 1, hits: 0 })
    return { index: faults.length - 1 }
  },
  async faultHits({ index }) {
    return { hits: faults[index].hits, remaining: faults[index].remaining }
  },
  async sentRequests({ method, pathPattern, afterSeq }) {
    const pattern = new RegExp(pathPattern ?? '')
    return sent.filter(
      (r) => r.seq > (afterSeq ?? -1) && (!method || r.method === method) && pattern.test(r.path),
    )
  },
  async lastSeq() {
    return { seq: sent.length - 1 }
  },
  async ack({ interactionId, timeout }) {
    return discord.channel(channels[0].id).waitForInteractionAck({ interactionId, timeout })
  },
  async botMessages({ channelId, afterId }) {
    return botMessagesAfter(channelId, afterId)
  },
  async waitBotMessages({ channelId, afterId, count, timeout }) {
    const deadline = Date.now() + (timeout ?? 10000)
    for (;;) {
      const found = await botMessagesAfter(channelId, afterId)
      if (found.length >= (count ?? 1)) return found
      if (Date.now() > deadline) throw new Error(`no bot message in ${channelId} after ${afterId}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  },
  async shardRouting() {
    // What the shard router saw: each IDENTIFY's shard and each dispatch it let through.
    if (!routing) throw new Error('the twin is not sharded: start it with TWIN_SHARD_COUNT > 1')
    return routing
  },
  async setPermissions({ userId, permissions }) {
    await discord.prisma.guildMember.update({
      where: { guildId_userId: { guildId: discord.guildId, userId } },
      data: { permissions },
    })
    return { ok: true }
  },
}

const control = http.createServer(async (request, response) => {
  const name = request.url.slice(1)
  let body = ''
  for await (const chunk of request) body += chunk
  try {
    const action = actions[name]
    if (!action) throw new Error(`unknown action ${name}`)
    const result = await action(body ? JSON.parse(body) : {})
    response.writeHead(200, { 'Content-Type': 'application/json' })
    response.end(JSON.stringify(result ?? null))
  } catch (error) {
    response.writeHead(500, { 'Content-Type': 'application/json' })
    response.end(JSON.stringify({ error: String(error?.stack ?? error) }))
  }
})
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve))

process.stdout.write(
  JSON.stringify({
    restUrl: discord.restUrl,
    frontUrl: `http://127.0.0.1:${front.address().port}${new URL(discord.restUrl).pathname}`,
    gatewayUrl: discord.gatewayUrl,
    controlUrl: `http://127.0.0.1:${control.address().port}`,
    botToken: discord.botToken,
    botUserId: discord.botUserId,
    guildId: discord.guildId,
    shardCount: SHARD_COUNT,
    guilds: (await discord.prisma.guild.findMany({ orderBy: { name: 'asc' } })).map((g) => ({
      id: g.id,
      name: g.name,
      shard: shardOf(g.id, SHARD_COUNT),
      channels: byName(channels.filter((c) => c.guildId === g.id)),
    })),
    channels: byName(channels),
    users: byName(users),
  }) + '\n',
)

process.stdin.resume()
process.stdin.on('end', async () => {
  control.close()
  front.close()
  await discord.stop()
  process.exit(0)
})
