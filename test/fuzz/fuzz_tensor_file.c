/*===- fuzz_tensor_file.c - libFuzzer target: tensor files ----------------===
 *
 * The bytes as a tensor file (.pb TensorProto or .npy, chosen by content,
 * as the executable reads its inputs), then checked against declared
 * inputs, static and symbolic, as kiln_tensor_check does for a model.
 *===----------------------------------------------------------------------===*/
#include "fuzz_common.h"

static const int64_t kStatic[] = {2, 3};
static const int64_t kSymbolic[] = {-1, 3, -2};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = kiln_fuzz_file(data, size);
  kiln_tensor t;
  memset(&t, 0, sizeof t);
  char err[256];
  if (kiln_tensor_read_file(path, &t, err, sizeof err) == KILN_OK) {
    kiln_tensor_info infos[] = {
        {"x", KILN_FLOAT, 2, kStatic, 24, KILN_KIND_TENSOR},
        {"y", t.elem_type, 3, kSymbolic, 0, KILN_KIND_TENSOR}};
    for (size_t i = 0; i < sizeof infos / sizeof *infos; ++i)
      (void)kiln_tensor_check(&t, &infos[i], err, sizeof err);
    kiln_fuzz_touch(t.data, t.byte_size);
  }
  kiln_tensor_free(&t);
  return 0;
}
