/**
 * Input audio transcription for one emulated session: a user audio item gets its transcript once, as the
 * `conversation.item.input_audio_transcription.delta` + `.completed` pair, and only while the session asks for
 * transcription. The text comes from the brain, during a response (its recognised turn) or, for committed audio
 * that gets no response, from the brain's own `transcribe`.
 */
import type { BrainSession } from '../../agent/brain.js';
import type { Logger } from '../../log.js';
import { type Conversation, type StoredItem, storedAudioMs } from './conversation.js';
import type { ServerEventBody } from './protocol.js';
import type { SessionState } from './sessionConfig.js';

export interface TranscriptDeps {
  readonly send: (event: ServerEventBody) => void;
  readonly conversation: Conversation;
  readonly session: SessionState;
  readonly brain: BrainSession;
  /** Aborted when the session ends: a transcription still running is then dropped. */
  readonly closing: AbortSignal;
  readonly log: Logger;
}

export class UserTranscripts {
  readonly #deps: TranscriptDeps;
  readonly #done = new Set<string>();

  constructor(deps: TranscriptDeps) {
    this.#deps = deps;
  }

  /** Sends `text` as the transcript of user audio item `itemId`, unless it has one or is not user audio. */
  deliver(itemId: string, text: string): void {
    const { conversation, session, send } = this.#deps;
    const stored = conversation.get(itemId);
    if (stored === undefined || this.#done.has(itemId)) return;
    const item = stored.item;
    if (item.type !== 'message' || item.role !== 'user' || session.audio.input.transcription === null) return;
    const part = item.content[0];
    if (part?.type !== 'input_audio') return;
    this.#done.add(itemId);
    part.transcript = text;
    send({
      type: 'conversation.item.input_audio_transcription.delta',
      item_id: itemId,
      content_index: 0,
      delta: text,
    });
    send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: itemId,
      content_index: 0,
      transcript: text,
      usage: { type: 'duration', seconds: stored.audio ? Math.ceil(storedAudioMs(stored.audio) / 1000) : 0 },
    });
  }

  /** Committed audio that gets no response is transcribed by the brain's `transcribe`, when it has one. */
  later(stored: StoredItem): void {
    const { brain, session, closing, log } = this.#deps;
    const pcm = stored.audio?.pcm;
    const transcribe = brain.transcribe;
    if (pcm === undefined || transcribe === undefined || session.audio.input.transcription === null) return;
    transcribe.call(brain, pcm, closing).then(
      (text) => {
        if (text !== null && !closing.aborted) this.deliver(stored.item.id, text);
      },
      (err: unknown) => log.warn({ err }, 'brain transcription failed'),
    );
  }
}
