/**
 * Conversation items: building them from committed audio and from `conversation.item.create`, truncating
 * assistant audio, and the `retrieve` view (the only one that carries audio).
 */
import type { AudioFormat } from '../../media/format.js';
import type { ContentPartInput, ItemInput } from './clientEvents.js';
import { type StoredItem, storedAudioBase64, storedAudioMs, truncateStoredAudio } from './conversation.js';
import { InputAudio } from './inputAudio.js';
import { ClientEventError, type Item, OpenAIErrorCodes } from './protocol.js';

export function notFound(itemId: string): ClientEventError {
  return new ClientEventError(
    OpenAIErrorCodes.itemNotFound,
    `Item with item_id '${itemId}' not found.`,
    'item_id',
  );
}

/** A user message holding committed input audio (PCM16 for the brain, wire bytes for `retrieve`). */
export function userAudioItem(itemId: string, pcm: Int16Array, input: InputAudio): StoredItem {
  const format = input.format;
  const wire = input.encode(pcm);
  return {
    item: {
      id: itemId,
      object: 'realtime.item',
      type: 'message',
      status: 'completed',
      role: 'user',
      content: [{ type: 'input_audio', transcript: null }],
    },
    audio: { format, chunks: [wire], bytes: wire.length, pcm: { pcm, sampleRate: format.sampleRate } },
  };
}

/** An item from `conversation.item.create`; audio in a user part is decoded for the brain and kept apart. */
export function clientItem(
  input: ItemInput,
  newId: (prefix: string) => string,
  inputFormat: AudioFormat,
): StoredItem {
  const id = input.id ?? newId('item');
  const base = { id, object: 'realtime.item', status: 'completed' } as const;
  if (input.type === 'function_call') {
    const item: Item = {
      ...base,
      type: 'function_call',
      name: input.name,
      arguments: input.arguments,
      call_id: input.call_id ?? newId('call'),
    };
    return { item };
  }
  if (input.type === 'function_call_output') {
    return { item: { ...base, type: 'function_call_output', call_id: input.call_id, output: input.output } };
  }
  const content = input.content.map((part, i) => normalizePart(input.role, part, i));
  const item = { ...base, type: 'message', role: input.role, content } as Item;
  return { item, ...clientAudio(input.content, inputFormat) };
}

/** Checks a truncate request; returns the assistant item's audio length, ms. */
export function checkTruncate(stored: StoredItem, contentIndex: number, audioEndMs: number): number {
  const item = stored.item;
  if (item.type !== 'message' || item.role !== 'assistant') {
    throw new ClientEventError(
      OpenAIErrorCodes.invalidValue,
      'Only assistant message items can be truncated.',
      'item_id',
    );
  }
  if (contentIndex !== 0 || stored.audio === undefined) {
    throw new ClientEventError(
      OpenAIErrorCodes.invalidValue,
      `Content part ${contentIndex} of '${item.id}' has no audio.`,
      'content_index',
    );
  }
  const haveMs = storedAudioMs(stored.audio);
  if (audioEndMs > haveMs) {
    throw new ClientEventError(
      OpenAIErrorCodes.truncateTooLong,
      `Audio content of ${Math.floor(haveMs)}ms is already shorter than ${audioEndMs}ms.`,
      'audio_end_ms',
    );
  }
  return haveMs;
}

/**
 * Keeps the first `audioEndMs` of the item's audio and the same share of its transcript, cut back to a word
 * boundary, so the context holds only what the user heard.
 */
export function truncateItem(stored: StoredItem, audioEndMs: number, haveMs: number): void {
  const item = stored.item;
  if (item.type !== 'message' || stored.audio === undefined) return;
  const part = item.content[0];
  if (part !== undefined && 'transcript' in part && typeof part.transcript === 'string') {
    part.transcript = heardPrefix(part.transcript, haveMs === 0 ? 0 : audioEndMs / haveMs);
  }
  truncateStoredAudio(stored.audio, audioEndMs);
}

/** The item as `conversation.item.retrieved` shows it: with its audio, base64, in the wire format. */
export function itemWithAudio(stored: StoredItem): Item {
  const item = structuredClone(stored.item);
  if (stored.audio !== undefined && item.type === 'message') {
    const part = item.content[0];
    if (part !== undefined && (part.type === 'input_audio' || part.type === 'output_audio')) {
      part.audio = storedAudioBase64(stored.audio);
    }
  }
  return item;
}

const PARTS_BY_ROLE = {
  user: ['input_text', 'input_audio', 'input_image'],
  system: ['input_text'],
  assistant: ['output_text', 'output_audio'],
} as const;

/** Checks a part's type against its role and keeps only its fields (audio is stored apart). */
function normalizePart(role: keyof typeof PARTS_BY_ROLE, part: ContentPartInput, index: number): object {
  const allowed: readonly string[] = PARTS_BY_ROLE[role];
  if (!allowed.includes(part.type)) {
    throw new ClientEventError(
      OpenAIErrorCodes.invalidValue,
      `Invalid value: '${part.type}'. Supported values for role '${role}' are: ${allowed.map((t) => `'${t}'`).join(', ')}.`,
      `item.content[${index}].type`,
    );
  }
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return { type: part.type, text: part.text ?? '' };
    case 'input_audio':
    case 'output_audio':
      // The official client requires `transcript` (string or null) on user audio parts.
      return { type: part.type, transcript: part.transcript ?? null };
    case 'input_image':
      return {
        type: part.type,
        image_url: part.image_url ?? '',
        ...(part.detail ? { detail: part.detail } : {}),
      };
  }
}

function clientAudio(parts: readonly ContentPartInput[], format: AudioFormat): Pick<StoredItem, 'audio'> {
  const part = parts.find((p) => p.type === 'input_audio' && typeof p.audio === 'string' && p.audio !== '');
  if (part === undefined || typeof part.audio !== 'string') return {};
  const wire = Buffer.from(part.audio, 'base64');
  const decoder = new InputAudio(format, Number.POSITIVE_INFINITY);
  decoder.append(wire);
  const pcm = decoder.take(decoder.startMs, decoder.endMs);
  return {
    audio: { format, chunks: [wire], bytes: wire.length, pcm: { pcm, sampleRate: format.sampleRate } },
  };
}

/** The first `fraction` of a transcript, cut back to a word boundary. */
function heardPrefix(text: string, fraction: number): string {
  if (fraction >= 1) return text;
  const cut = Math.floor(text.length * Math.max(0, fraction));
  const space = text.lastIndexOf(' ', cut);
  return (space > 0 ? text.slice(0, space) : text.slice(0, cut)).trimEnd();
}
