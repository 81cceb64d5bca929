/**
 * One joined Ultravox call on its `serverWebSocket` (spec/ultravox.md §4): binary s16le audio both ways at the
 * call's rates, and data messages. This file holds the socket side: reading frames and messages (malformed ones
 * get an `error` message, plus a `debug` one when enabled, and the call goes on), the per-message-type toggles,
 * the call's timers, and the end. The conversation itself is conversation.ts; user turns come from userAudio.ts.
 */

import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { BrainSession } from '../../agent/brain.js';
import type { Logger } from '../../log.js';
import { type IdleTimer, idleTimer } from '../harness.js';
import type { SocketMedium } from './callConfig.js';
import { type EmulatedCall, type EndReason, type LiveCall, markEnded } from './calls.js';
import { Conversation } from './conversation.js';
import {
  CLIENT_MESSAGE_TYPES,
  type ClientMessage,
  clientMessageSchema,
  type ServerMessage,
  TOGGLE_OF,
} from './messages.js';
import { UserAudio } from './userAudio.js';

export interface CallSessionOptions {
  readonly ws: WebSocket;
  readonly call: EmulatedCall;
  readonly socket: SocketMedium;
  readonly brain: BrainSession;
  readonly newId: () => string;
  /** Agent audio leaves in chunks of this many ms. */
  readonly chunkMs: number;
  readonly maxInputBufferMs: number;
  /** `debug` messages on even if `dataMessages.debug` is off (`?experimentalMessages=debug`). */
  readonly debug: boolean;
  readonly log: Logger;
  /** Tap: every text message that is a JSON object, as received, before it is validated. */
  readonly onClientMessage?: ((callId: string, message: Record<string, unknown>) => void) | undefined;
}

export class CallSession implements LiveCall {
  readonly #o: CallSessionOptions;
  readonly #log: Logger;
  readonly #conversation: Conversation;
  readonly #user: UserAudio;
  readonly #idle: IdleTimer;
  readonly #maxDuration: NodeJS.Timeout;
  #closed = false;

  constructor(options: CallSessionOptions) {
    this.#o = options;
    const { call, socket } = options;
    this.#log = options.log.child({ callId: call.id });
    this.#conversation = new Conversation(
      {
        send: (m) => this.#send(m),
        sendAudio: (chunk) => this.#sendAudio(chunk),
        debug: (message) => this.#send({ type: 'debug', message }),
        end: (reason) => this.#finish(reason),
      },
      {
        config: call.config,
        socket,
        brain: options.brain,
        callState: call.state,
        newId: options.newId,
        chunkMs: options.chunkMs,
        log: this.#log,
      },
    );
    this.#user = new UserAudio(socket.inputSampleRate, call.config.vad, options.maxInputBufferMs, {
      started: () => this.#conversation.userStarted(),
      turn: (turn) => this.#conversation.userTurn(turn.audio),
    });
    const ws = options.ws;
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on('close', () => this.#finish('hangup'));
    ws.on('error', (err) => this.#log.debug({ err }, 'socket error'));
    this.#idle = idleTimer(socket.mediaIdleTimeoutMs ?? 0, () => this.#finish('connection_error'));
    this.#maxDuration = setTimeout(
      () => this.#conversation.endNow('timeout', call.config.timeExceededMessage),
      call.config.maxDurationMs,
    );
    this.#maxDuration.unref();
    this.#log.info({ agentId: call.agentId }, 'ultravox call joined');
    this.#send({ type: 'call_started', callId: call.id });
    this.#conversation.start();
  }

  /** A data message from `POST /api/calls/{id}/send_data_message`. */
  deliver(message: ClientMessage): void {
    if (!this.#closed) this.#handle(message);
  }

  /** Ends the call (DELETE, shutdown). */
  end(reason: EndReason): void {
    this.#finish(reason);
  }

  #send(message: ServerMessage): void {
    const ws = this.#o.ws;
    if (this.#closed || ws.readyState !== ws.OPEN) return;
    const toggle = TOGGLE_OF[message.type as keyof typeof TOGGLE_OF];
    if (toggle !== undefined && !this.#o.socket.messages[toggle] && !(toggle === 'debug' && this.#o.debug))
      return;
    ws.send(JSON.stringify(message));
  }

  #sendAudio(chunk: Uint8Array): void {
    const ws = this.#o.ws;
    if (!this.#closed && ws.readyState === ws.OPEN) ws.send(chunk, { binary: true });
  }

  #problem(code: string, message: string): void {
    this.#log.debug({ code }, 'client message rejected');
    this.#send({ type: 'error', code, message });
    this.#send({ type: 'debug', message: `${code}: ${message}` });
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#closed) return;
    if (isBinary) {
      this.#idle.touch();
      const problem = this.#user.append(data);
      if (problem !== null) this.#problem('invalid_audio', problem);
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString('utf8'));
    } catch {
      this.#problem('invalid_json', 'a data message must be one JSON object per text frame');
      return;
    }
    if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') {
      this.#problem('invalid_message', 'a data message is a JSON object with a string "type"');
      return;
    }
    const type = (raw as { type: string }).type;
    this.#tap(raw as Record<string, unknown>);
    if (!CLIENT_MESSAGE_TYPES.includes(type)) {
      // Message types grow over time: unknown ones are ignored (spec/ultravox.md §9.18).
      this.#send({ type: 'debug', message: `ignored a message of unknown type '${type.slice(0, 64)}'` });
      return;
    }
    const parsed = clientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.#problem('invalid_message', `${type}: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
      return;
    }
    this.#handle(parsed.data);
  }

  #tap(message: Record<string, unknown>): void {
    try {
      this.#o.onClientMessage?.(this.#o.call.id, message);
    } catch (err) {
      this.#log.warn({ err }, 'onClientMessage tap threw; ignored');
    }
  }

  #handle(message: ClientMessage): void {
    const c = this.#conversation;
    switch (message.type) {
      case 'ping':
        this.#send({ type: 'pong', timestamp: message.timestamp });
        return;
      case 'user_text_message':
        c.userText(message.text, message.urgency ?? 'soon');
        return;
      case 'input_text_message':
        c.userText(message.text, message.deferResponse ? 'later' : 'soon');
        return;
      case 'set_output_medium':
        c.setMedium(message.medium);
        return;
      case 'client_tool_result':
      case 'data_connection_tool_result': {
        const problem = c.toolResult(message);
        if (problem !== null) this.#problem('unknown_invocation', problem);
        return;
      }
      case 'forced_agent_message':
        c.forced(message);
        return;
      case 'hang_up':
        c.hangUp(message.message ?? '');
        return;
    }
  }

  #finish(reason: EndReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conversation.close();
    this.#idle.stop();
    clearTimeout(this.#maxDuration);
    this.#o.brain.close();
    this.#user.close();
    markEnded(this.#o.call, reason);
    this.#log.info(
      { endReason: reason, audioInMs: Math.round(this.#user.receivedMs) },
      'ultravox call ended',
    );
    const ws = this.#o.ws;
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000, reason);
  }
}
