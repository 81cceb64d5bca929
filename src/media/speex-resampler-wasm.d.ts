/**
 * Types for the raw Emscripten module of `@echogarden/speex-resampler-wasm` 0.3.0 (the package ships none). Only
 * the exports we call are listed; pointers are byte offsets into the module's heap. Both builds (SIMD and not)
 * export the same functions.
 */
declare module '@echogarden/speex-resampler-wasm/simd' {
  export interface SpeexModule {
    /** Returns a state pointer; writes the error code (0 = success) to `errPtr`. */
    _speex_resampler_init(
      channels: number,
      inRate: number,
      outRate: number,
      quality: number,
      errPtr: number,
    ): number;
    /** `inLenPtr`/`outLenPtr` point at uint32s: capacity in, samples consumed/produced out. Returns an error code. */
    _speex_resampler_process_int(
      state: number,
      channel: number,
      inPtr: number,
      inLenPtr: number,
      outPtr: number,
      outLenPtr: number,
    ): number;
    _speex_resampler_destroy(state: number): void;
    _speex_resampler_get_input_latency(state: number): number;
    _speex_resampler_get_output_latency(state: number): number;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    /** Views over the heap; replaced when the heap grows (any `_malloc` may grow it), so read them afresh. */
    readonly HEAP16: Int16Array;
    readonly HEAP32: Int32Array;
    readonly HEAPU32: Uint32Array;
  }
  const factory: () => Promise<SpeexModule>;
  export default factory;
}

declare module '@echogarden/speex-resampler-wasm' {
  const factory: () => Promise<import('@echogarden/speex-resampler-wasm/simd').SpeexModule>;
  export default factory;
}
