/**
 * Echo: answers every call and plays the caller's own audio back to them, at their format and rate.
 * A first scenario to try (`voxgate serve --scenario echo`) and a quick check of a client's audio path.
 */
import { AppEvents, CallEvents, VoxEngine } from 'voxgate/voxengine';

VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => {
    // A call may send its audio to itself: whatever the caller says comes straight back.
    call.sendMediaTo(call);
  });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
