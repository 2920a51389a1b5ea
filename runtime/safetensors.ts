// Reader and writer for the safetensors format (https://github.com/huggingface/safetensors):
// u64 little-endian header length N, N bytes of JSON header, then the raw tensor data.
// Browser-safe: no Node imports. The format, reading, writing and half-precision conversions
// each live in runtime/safetensors/.
export {
  type Dtype,
  ITEM_SIZE,
  MAX_HEADER_BYTES,
  type SafetensorsFile,
  type Tensor,
  WeightsError,
  type WeightsProblem,
} from "./safetensors/format.js";
export {
  FLOAT_DTYPES,
  exactJson,
  exactNumber,
  firstDuplicateKey,
  parseSafetensors,
  toFloat32,
  toFloat64,
} from "./safetensors/read.js";
export { type TensorToWrite, writeSafetensors } from "./safetensors/write.js";
export {
  bf16BitsToFloat32,
  f16BitsToFloat32,
  float32ToBf16Bits,
  float32ToF16Bits,
} from "./safetensors/half.js";
