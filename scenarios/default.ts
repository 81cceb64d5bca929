/**
 * The default scenario: what every call runs unless `--scenario` or the call's assistant says otherwise.
 *
 * It will bridge the caller to the default agent (the local agent when no provider key is configured, OpenAI
 * Realtime or Ultravox when their keys are set). Until those connectors land it is an echo: the caller hears
 * their own audio back.
 */
import { AppEvents, CallEvents, VoxEngine } from 'voxgate/voxengine';

VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => call.sendMediaTo(call));
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
