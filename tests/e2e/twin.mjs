// Test-only harness: starts discord-digital-twin (an in-memory Discord REST + gateway) on
// 127.0.0.1 and exposes its scripted-user API over a tiny local HTTP control server, so
// the Python e2e tests can drive it. Prints one JSON line with the URLs and ids, then
// serves until stdin closes (the pytest fixture closes it to stop the twin).
import http from 'node:http'
import { DigitalDiscord } from 'discord-digital-twin'

const GUILD_TEXT = 0
const discord = new DigitalDiscord({
  guild: { name: 'MLE Study Group' },
  channels: [
    { name: 'general', type: GUILD_TEXT },
    { name: 'ask-here', type: GUILD_TEXT },
    { name: 'nudges', type: GUILD_TEXT },
  ],
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

const channels = await discord.prisma.channel.findMany({ orderBy: { name: 'asc' } })
const users = await discord.prisma.user.findMany({ where: { bot: false } })
const byName = (rows) => Object.fromEntries(rows.map((r) => [r.name ?? r.username, r.id]))

async function botMessagesAfter(channelId, afterId) {
  const messages = await discord.channel(channelId).getMessages()
  return messages.filter(
    (m) => m.author.id === discord.botUserId && BigInt(m.id) > BigInt(afterId ?? '0'),
  )
}

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
    gatewayUrl: discord.gatewayUrl,
    controlUrl: `http://127.0.0.1:${control.address().port}`,
    botToken: discord.botToken,
    botUserId: discord.botUserId,
    guildId: discord.guildId,
    channels: byName(channels),
    users: byName(users),
  }) + '\n',
)

process.stdin.resume()
process.stdin.on('end', async () => {
  control.close()
  await discord.stop()
  process.exit(0)
})
