/**
 * The load benchmark's scenario: a pure forwarding bridge from each call to OpenAI Realtime (the bench echo
 * server), written against the public VoxEngine API only. `voxgate serve --scenario bench/load/bridge.ts` with
 * `BENCH_OPENAI_URL=http://127.0.0.1:<echo port>/`.
 *
 * Unlike the default scenario it sends no instructions, tools, transcription or greeting: server VAD is turned
 * off (`turn_detection: null`) so the echo server's one continuous response flows, and the client connects while
 * the call is being answered (one round trip less of setup). The session format is voxgate's automatic choice:
 * `audio/pcmu` passthrough for a mu-law 8 kHz caller, `audio/pcm` 24 kHz through the link resamplers otherwise.
 * The call's `metadata.bench` tag becomes the model name, so the echo server can report when each call's first
 * frame arrived.
 */
import { AppEvents, CallEvents, OpenAI, VoxEngine } from 'voxgate/voxengine';

const baseUrl = process.env.BENCH_OPENAI_URL ?? process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1:8787/';

function benchTag(): string {
  try {
    const tag = (JSON.parse(VoxEngine.customData()) as { bench?: unknown }).bench;
    return typeof tag === 'string' ? tag : 'gpt-realtime';
  } catch {
    return 'gpt-realtime';
  }
}

VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const connecting = OpenAI.createRealtimeAPIClient({
    apiKey: 'sk-bench',
    baseUrl,
    model: benchTag(),
    onWebSocketClose: () => call.hangup(),
  });
  connecting.catch(() => call.hangup());
  call.addEventListener(CallEvents.Connected, async () => {
    try {
      const client = await connecting;
      VoxEngine.sendMediaBetween(call, client);
      client.sessionUpdate({ session: { type: 'realtime', audio: { input: { turn_detection: null } } } });
    } catch {
      call.hangup();
    }
  });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
