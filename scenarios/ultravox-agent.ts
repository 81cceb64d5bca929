/**
 * The default scenario for the Ultravox agents (`--agent ultravox`, `--agent ultravox-local`): it answers and
 * bridges the caller to an Ultravox call: Ultravox itself with `ULTRAVOX_API_KEY`, or voxgate's local agent behind
 * the in-process Ultravox server (the server hands out its address and key as the same secrets). What happens is
 * relayed to the caller as Vapi client messages: transcripts, speech updates, interruptions.
 *
 * - Secrets (`VoxEngine.getSecretValue`): `ULTRAVOX_API_KEY`, `ULTRAVOX_BASE_URL` (optional).
 * - Tools: `get_weather {city}`, a client tool answered here from canned demo data (no network).
 * - Barge-in: Ultravox asks to clear the playback buffer; the client's `bargeIn` drops the unplayed audio.
 * - Hang-up: Ultravox ends the call after the agent's goodbye; the closed socket hangs up the caller.
 *
 * Written as a user would, against the public API only.
 */
import { AppEvents, type Call, CallEvents, Logger, Ultravox, VoxEngine } from 'voxgate/voxengine';

const SYSTEM_PROMPT = [
  'You are a friendly voice assistant on a phone line. Keep every answer to one or two short sentences.',
  'For the weather, call get_weather. When the caller says goodbye, say goodbye and hang up.',
].join(' ');

VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => {
    void bridge(call);
  });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});

async function bridge(call: Call): Promise<void> {
  const apiKey = VoxEngine.getSecretValue('ULTRAVOX_API_KEY');
  const baseUrl = VoxEngine.getSecretValue('ULTRAVOX_BASE_URL');
  if (apiKey === undefined || apiKey === '') {
    Logger.write('ultravox-agent scenario: no ULTRAVOX_API_KEY secret; hanging up');
    call.hangup();
    return;
  }
  let agent: Ultravox.WebSocketAPIClient;
  try {
    agent = await Ultravox.createWebSocketAPIClient({
      endpoint: Ultravox.HTTPEndpoint.CREATE_CALL,
      authorizations: { 'X-API-Key': apiKey },
      ...(baseUrl === undefined ? {} : { baseUrl }),
      body: {
        systemPrompt: SYSTEM_PROMPT,
        medium: { serverWebSocket: { inputSampleRate: 16000, outputSampleRate: 16000 } },
        selectedTools: [
          {
            temporaryTool: {
              modelToolName: 'get_weather',
              description: 'The current weather in a city (demo data, not a real forecast).',
              client: {},
              dynamicParameters: [
                {
                  name: 'city',
                  location: 'PARAMETER_LOCATION_BODY',
                  schema: { type: 'string', description: 'The city, e.g. Paris' },
                  required: true,
                },
              ],
            },
          },
        ],
      },
      bargeIn: true,
      onWebSocketClose: () => call.hangup(),
    });
  } catch (err) {
    Logger.write(
      `ultravox-agent scenario: cannot reach the agent (${(err as { code?: string }).code ?? 'error'})`,
    );
    call.hangup();
    return;
  }
  if (call.state() === 'TERMINATED') return; // the session closes the client

  const say = (message: Record<string, unknown>): void => call.sendMessage(JSON.stringify(message));
  let agentSpeaking = false;
  VoxEngine.sendMediaBetween(call, agent);

  agent.addEventListener(Ultravox.Events.WebSocketMediaStarted, () => {
    agentSpeaking = true;
    say({ type: 'speech-update', role: 'assistant', status: 'started' });
  });
  agent.addEventListener(Ultravox.Events.WebSocketMediaEnded, () => {
    agentSpeaking = false;
    say({ type: 'speech-update', role: 'assistant', status: 'stopped' });
  });
  agent.addEventListener(Ultravox.WebSocketAPIEvents.PlaybackClearBuffer, () => {
    // bargeIn already dropped the unplayed audio.
    if (agentSpeaking) say({ type: 'user-interrupted' });
  });

  const partial = new Map<number, string>();
  agent.addEventListener(Ultravox.WebSocketAPIEvents.Transcript, (e) => {
    const t = e.data.payload as {
      role: string;
      text?: string;
      delta?: string;
      final: boolean;
      ordinal: number;
    };
    const role = t.role === 'agent' ? 'assistant' : 'user';
    const text = t.text ?? (partial.get(t.ordinal) ?? '') + (t.delta ?? '');
    if (t.final) partial.delete(t.ordinal);
    else partial.set(t.ordinal, text);
    if (text.trim() === '') return;
    say({ type: 'transcript', role, transcriptType: t.final ? 'final' : 'partial', transcript: text });
  });

  agent.addEventListener(Ultravox.WebSocketAPIEvents.ClientToolInvocation, (e) => {
    const invocation = e.data.payload as {
      toolName: string;
      invocationId: string;
      parameters: Record<string, unknown>;
    };
    if (invocation.toolName !== 'get_weather') {
      agent.clientToolResult({
        invocationId: invocation.invocationId,
        errorType: 'undefined',
        errorMessage: `no such tool: ${invocation.toolName}`,
      });
      return;
    }
    const city = String(invocation.parameters.city ?? '');
    agent.clientToolResult({
      invocationId: invocation.invocationId,
      result: JSON.stringify(demoWeather(city)),
    });
  });
}

/** Canned weather, the same for the same city every time. Demo data: it says so. */
function demoWeather(city: string): Record<string, unknown> {
  const conditions = ['sunny', 'partly cloudy', 'cloudy', 'light rain', 'windy'];
  let hash = 0;
  for (const ch of city.trim().toLowerCase()) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return {
    conditions: conditions[hash % conditions.length],
    temperature_c: 8 + (hash % 20),
    source: 'demo data',
  };
}
