/**
 * Ultravox: answers the call and bridges the caller to an Ultravox agent with one client tool, written the
 * VoxEngine way (plain JavaScript, globals, `require(Modules.Ultravox)`): it runs unchanged on VoxEngine.
 *
 * - Secret `ULTRAVOX_API_KEY`: the key sent as `X-API-Key`.
 * - On voxgate, the environment variable `ULTRAVOX_BASE_URL` points the client at another server, e.g. the local
 *   one: `voxgate emulate ultravox --port 8788` and `ULTRAVOX_BASE_URL=http://127.0.0.1:8788`.
 *
 * The agent may call `checkTable` (answered here); when it asks to clear its audio (the caller talked over it)
 * the buffered audio is dropped; once the tool's answer has been spoken the agent says goodbye and the call ends.
 */
require(Modules.Ultravox);

VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  let agent = null;
  let done = false;
  let toolAnswered = false;
  let hangingUp = false;
  const shutdown = () => {
    if (done) return;
    done = true;
    if (agent) agent.close();
    VoxEngine.terminate();
  };
  call.addEventListener(CallEvents.Disconnected, shutdown);
  call.addEventListener(CallEvents.Failed, shutdown);

  call.addEventListener(CallEvents.Connected, async () => {
    try {
      agent = await Ultravox.createWebSocketAPIClient({
        endpoint: Ultravox.HTTPEndpoint.CREATE_CALL,
        authorizations: { 'X-API-Key': VoxEngine.getSecretValue('ULTRAVOX_API_KEY') },
        body: {
          systemPrompt: 'You book tables for a small restaurant. Be brief.',
          voice: 'Mark',
          // A large client buffer, since this scenario clears it when asked.
          medium: {
            serverWebSocket: { inputSampleRate: 16000, outputSampleRate: 16000, clientBufferSizeMs: 5000 },
          },
          selectedTools: [
            {
              temporaryTool: {
                modelToolName: 'checkTable',
                description: 'Check whether a table is free at a given time',
                client: {},
                dynamicParameters: [
                  {
                    name: 'time',
                    location: 'PARAMETER_LOCATION_BODY',
                    schema: { type: 'string', description: 'HH:MM' },
                    required: true,
                  },
                ],
              },
            },
          ],
        },
        onWebSocketClose: () => call.hangup(),
      });
    } catch (err) {
      Logger.write(`ultravox: setup failed: ${err.code || err.message}`);
      call.hangup();
      return;
    }

    VoxEngine.sendMediaBetween(call, agent);

    agent.addEventListener(Ultravox.WebSocketAPIEvents.PlaybackClearBuffer, () => {
      agent.clearMediaBuffer();
      Logger.write('ultravox: playback cleared');
    });

    agent.addEventListener(Ultravox.WebSocketAPIEvents.Transcript, (event) => {
      const t = event.data.payload;
      if (!t.final) return;
      Logger.write(`ultravox: ${t.role}: ${t.text}`);
      if (t.role === 'agent' && toolAnswered && !hangingUp) {
        hangingUp = true;
        agent.hangUp({ message: 'Thank you, goodbye!' });
      }
    });

    agent.addEventListener(Ultravox.WebSocketAPIEvents.ClientToolInvocation, (event) => {
      const invocation = event.data.payload;
      if (invocation.toolName !== 'checkTable') {
        agent.clientToolResult({
          invocationId: invocation.invocationId,
          errorType: 'undefined',
          errorMessage: `no such tool: ${invocation.toolName}`,
        });
        return;
      }
      const free = invocation.parameters.time !== '19:00';
      toolAnswered = true;
      agent.clientToolResult({ invocationId: invocation.invocationId, result: JSON.stringify({ free }) });
      Logger.write('ultravox: tool answered');
    });
  });

  call.answer();
});
