/**
 * The default conversation: an ordered list of items with their audio, placed by `previous_item_id` (`"root"`
 * = first, a known id = right after it, absent = last).
 */
import type { BrainAudio, BrainHistoryEntry } from '../../agent/brain.js';
import type { AudioFormat } from '../../media/format.js';
import { bytesToMs } from '../../media/format.js';
import { ClientEventError, type Item, OpenAIErrorCodes } from './protocol.js';

/** Audio kept with an item: wire-format bytes (for `retrieve` and truncation) and, for user audio, PCM16. */
export interface StoredAudio {
  readonly format: AudioFormat;
  chunks: Uint8Array[];
  bytes: number;
  /** Decoded input audio, handed to the brain. */
  pcm?: BrainAudio;
}

export interface StoredItem {
  readonly item: Item;
  audio?: StoredAudio;
}

export class Conversation {
  readonly #order: StoredItem[] = [];
  readonly #byId = new Map<string, StoredItem>();

  get size(): number {
    return this.#order.length;
  }

  get(id: string): StoredItem | undefined {
    return this.#byId.get(id);
  }

  /** The id of the last item, or null when empty. */
  lastId(): string | null {
    return this.#order[this.#order.length - 1]?.item.id ?? null;
  }

  /**
   * Inserts an item; returns the id of the item it now follows (null at the start). Throws when
   * `previousItemId` names no item or the item's id is taken.
   */
  insert(stored: StoredItem, previousItemId?: string | null): string | null {
    const id = stored.item.id;
    if (this.#byId.has(id)) {
      throw new ClientEventError(
        OpenAIErrorCodes.duplicateItemId,
        `Item with id '${id}' already exists.`,
        'item.id',
      );
    }
    let at = this.#order.length;
    if (previousItemId === 'root') at = 0;
    else if (previousItemId !== undefined && previousItemId !== null) {
      const i = this.#order.findIndex((s) => s.item.id === previousItemId);
      if (i < 0) {
        throw new ClientEventError(
          OpenAIErrorCodes.itemNotFound,
          `Previous item with id '${previousItemId}' not found.`,
          'previous_item_id',
        );
      }
      at = i + 1;
    }
    this.#order.splice(at, 0, stored);
    this.#byId.set(id, stored);
    return at === 0 ? null : this.#order[at - 1]!.item.id;
  }

  delete(id: string): boolean {
    const stored = this.#byId.get(id);
    if (stored === undefined) return false;
    this.#byId.delete(id);
    this.#order.splice(this.#order.indexOf(stored), 1);
    return true;
  }

  items(): readonly StoredItem[] {
    return this.#order;
  }
}

/** Duration of stored audio, ms. */
export function storedAudioMs(audio: StoredAudio): number {
  return bytesToMs(audio.format, audio.bytes);
}

/** The stored audio as one base64 string. */
export function storedAudioBase64(audio: StoredAudio): string {
  return Buffer.concat(audio.chunks, audio.bytes).toString('base64');
}

/** Keeps the first `ms` of the audio (whole samples). */
export function truncateStoredAudio(audio: StoredAudio, ms: number): void {
  const bytesPerMs =
    audio.format.encoding === 'pcm16' ? (audio.format.sampleRate * 2) / 1000 : audio.format.sampleRate / 1000;
  const sampleBytes = audio.format.encoding === 'pcm16' ? 2 : 1;
  const keep = Math.min(audio.bytes, Math.floor((ms * bytesPerMs) / sampleBytes) * sampleBytes);
  const all = Buffer.concat(audio.chunks, audio.bytes).subarray(0, keep);
  audio.chunks = [all];
  audio.bytes = keep;
  if (audio.pcm !== undefined) {
    const samples = Math.floor((ms * audio.pcm.sampleRate) / 1000);
    audio.pcm = { pcm: audio.pcm.pcm.subarray(0, samples), sampleRate: audio.pcm.sampleRate };
  }
}

/** The conversation as the brain sees it. */
export function brainHistory(items: readonly StoredItem[]): BrainHistoryEntry[] {
  const out: BrainHistoryEntry[] = [];
  for (const { item, audio } of items) {
    if (item.type === 'function_call') {
      out.push({
        kind: 'tool_call',
        id: item.id,
        callId: item.call_id,
        name: item.name,
        arguments: item.arguments,
      });
    } else if (item.type === 'function_call_output') {
      out.push({ kind: 'tool_result', id: item.id, callId: item.call_id, output: item.output });
    } else {
      const text = item.content
        .map((c) => c.text ?? ('transcript' in c ? c.transcript : undefined) ?? '')
        .join('');
      out.push(
        audio === undefined
          ? { kind: 'message', id: item.id, role: item.role, text }
          : { kind: 'message', id: item.id, role: item.role, text, audioMs: storedAudioMs(audio) },
      );
    }
  }
  return out;
}
