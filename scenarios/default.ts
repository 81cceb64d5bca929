/**
 * The default scenario: what every call runs unless `--scenario` or the call's assistant says otherwise.
 *
 * It answers and bridges the caller to an OpenAI Realtime agent: OpenAI itself when the server has an
 * `OPENAI_API_KEY`, else voxgate's local agent behind the in-process OpenAI Realtime server (the server hands out
 * that server's address and key as the same secrets, so this file cannot tell the difference). It relays what
 * happens to the caller as Vapi client messages: transcripts, speech updates, interruptions.
 *
 * - Secrets (`VoxEngine.getSecretValue`): `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL` (optional).
 * - Tools: `get_weather {city}` answers from canned demo data (no network, deterministic per city);
 *   `end_call` hangs up once the agent's goodbye has played out.
 * - Barge-in: the client's `bargeIn` drops the agent's unplayed audio and truncates its turn at what was heard.
 *
 * Written as a user would, against the public API only; copy it to start your own.
 */
import { AppEvents, type Call, CallEvents, Logger, OpenAI, VoxEngine } from 'voxgate/voxengine';

const INSTRUCTIONS = [
  'You are a friendly voice assistant on a phone line. Keep every answer to one or two short sentences.',
  'Greet the caller when the call starts. For the weather, call get_weather.',
  'When the caller says goodbye, say goodbye, then call end_call.',
].join(' ');

const TOOLS = [
  {
    type: 'function',
    name: 'get_weather',
    description: 'The current weather in a city (demo data, not a real forecast).',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', description: 'The city, e.g. Paris' } },
      required: ['city'],
    },
  },
  {
    type: 'function',
    name: 'end_call',
    description: 'Hang up. Say goodbye first.',
    parameters: { type: 'object', properties: { reason: { type: 'string' } } },
  },
];

/** After `end_call`, hang up at the latest this long later, should the end of the goodbye audio never come. */
const HANGUP_FALLBACK_MS = 15_000;

VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  call.addEventListener(CallEvents.Connected, () => {
    void bridge(call, timers);
  });
  call.addEventListener(CallEvents.Disconnected, () => {
    for (const timer of timers) clearTimeout(timer);
    VoxEngine.terminate();
  });
  call.answer();
});

async function bridge(call: Call, timers: Set<ReturnType<typeof setTimeout>>): Promise<void> {
  const apiKey = VoxEngine.getSecretValue('OPENAI_API_KEY');
  const baseUrl = VoxEngine.getSecretValue('OPENAI_BASE_URL');
  const model = VoxEngine.getSecretValue('OPENAI_MODEL');
  if (apiKey === undefined || apiKey === '') {
    Logger.write('default scenario: no OPENAI_API_KEY secret; hanging up');
    call.hangup();
    return;
  }
  let client: OpenAI.RealtimeAPIClient;
  try {
    client = await OpenAI.createRealtimeAPIClient({
      apiKey,
      ...(baseUrl === undefined ? {} : { baseUrl }),
      ...(model === undefined ? {} : { model }),
      bargeIn: true,
      onWebSocketClose: () => call.hangup(),
    });
  } catch (err) {
    Logger.write(`default scenario: cannot reach the agent (${(err as { code?: string }).code ?? 'error'})`);
    call.hangup();
    return;
  }
  if (call.state() === 'TERMINATED') return; // the session closes the client

  const say = (message: Record<string, unknown>): void => call.sendMessage(JSON.stringify(message));
  let agentSpeaking = false;
  let hangingUp = false;
  const hangUpLater = (ms: number): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      call.hangup();
    }, ms);
    timers.add(timer);
  };

  // Caller ⇄ agent. A mu-law caller gets audio/pcmu both ways, with no transcoding.
  VoxEngine.sendMediaBetween(call, client);
  client.sessionUpdate({
    session: {
      type: 'realtime',
      instructions: INSTRUCTIONS,
      audio: {
        input: {
          transcription: { model: 'gpt-4o-mini-transcribe' },
          turn_detection: {
            type: 'server_vad',
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 500,
            create_response: true,
            interrupt_response: true,
          },
        },
      },
      tools: TOOLS,
      tool_choice: 'auto',
    },
  });
  client.responseCreate({}); // the greeting

  // Who speaks when.
  client.addEventListener(OpenAI.Events.WebSocketMediaStarted, () => {
    agentSpeaking = true;
    say({ type: 'speech-update', role: 'assistant', status: 'started' });
  });
  client.addEventListener(OpenAI.Events.WebSocketMediaEnded, () => {
    agentSpeaking = false;
    say({ type: 'speech-update', role: 'assistant', status: 'stopped' });
    if (hangingUp) call.hangup(); // the goodbye has played out
  });
  client.addEventListener(OpenAI.RealtimeAPIEvents.InputAudioBufferSpeechStarted, () => {
    // bargeIn already dropped the agent's unplayed audio; tell the caller their turn cut the agent's.
    if (agentSpeaking) say({ type: 'user-interrupted' });
    say({ type: 'speech-update', role: 'user', status: 'started' });
  });
  client.addEventListener(OpenAI.RealtimeAPIEvents.InputAudioBufferSpeechStopped, () => {
    say({ type: 'speech-update', role: 'user', status: 'stopped' });
  });

  // Transcripts: partials as they grow, then the final line.
  const partial = new Map<string, string>();
  const grow = (itemId: string, delta: string): string => {
    const text = (partial.get(itemId) ?? '') + delta;
    partial.set(itemId, text);
    return text;
  };
  client.addEventListener(OpenAI.RealtimeAPIEvents.ConversationItemInputAudioTranscriptionDelta, (e) => {
    const p = e.data.payload as { item_id: string; delta?: string };
    if (p.delta) say(transcript('user', grow(p.item_id, p.delta), false));
  });
  client.addEventListener(OpenAI.RealtimeAPIEvents.ConversationItemInputAudioTranscriptionCompleted, (e) => {
    const p = e.data.payload as { item_id: string; transcript: string };
    partial.delete(p.item_id);
    if (p.transcript.trim() !== '') say(transcript('user', p.transcript, true));
  });
  client.addEventListener(OpenAI.RealtimeAPIEvents.ResponseOutputAudioTranscriptDelta, (e) => {
    const p = e.data.payload as { item_id: string; delta: string };
    if (p.delta !== '') say(transcript('assistant', grow(p.item_id, p.delta), false));
  });
  client.addEventListener(OpenAI.RealtimeAPIEvents.ResponseOutputAudioTranscriptDone, (e) => {
    const p = e.data.payload as { item_id: string; transcript: string };
    partial.delete(p.item_id);
    if (p.transcript.trim() !== '') say(transcript('assistant', p.transcript, true));
  });

  // Tools, once the response that called them is done (one response at a time).
  client.addEventListener(OpenAI.RealtimeAPIEvents.ResponseDone, (e) => {
    const response = (e.data.payload as { response?: { status?: string; output?: FunctionCall[] } }).response;
    if (response?.status !== 'completed') return;
    let answered = false;
    for (const item of response.output ?? []) {
      if (item.type !== 'function_call') continue;
      if (item.name === 'end_call') {
        hangingUp = true;
        // Hang up when the goodbye has played out (WebSocketMediaEnded above); now if nothing is playing.
        hangUpLater(agentSpeaking ? HANGUP_FALLBACK_MS : 0);
        continue;
      }
      client.conversationItemCreate({
        item: { type: 'function_call_output', call_id: item.call_id, output: runTool(item) },
      });
      answered = true;
    }
    if (answered && !hangingUp) client.responseCreate({});
  });
}

interface FunctionCall {
  type: string;
  name?: string;
  call_id?: string;
  arguments?: string;
}

function transcript(role: 'user' | 'assistant', text: string, final: boolean): Record<string, unknown> {
  return { type: 'transcript', role, transcriptType: final ? 'final' : 'partial', transcript: text };
}

function runTool(call: FunctionCall): string {
  if (call.name !== 'get_weather') return JSON.stringify({ error: `unknown tool ${call.name}` });
  let city = '';
  try {
    city = String((JSON.parse(call.arguments ?? '{}') as { city?: unknown }).city ?? '');
  } catch {
    // bad arguments: answer for no city
  }
  return JSON.stringify(demoWeather(city));
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
