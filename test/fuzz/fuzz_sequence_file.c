/*===- fuzz_sequence_file.c - libFuzzer target: sequence files ------------===
 *
 * The bytes as a SequenceProto/OptionalProto (kiln_sequence_read_pb) and as
 * an optional tensor (kiln_optional_read_pb), checked against declared
 * sequence inputs and written back as the executable writes outputs.
 *===----------------------------------------------------------------------===*/
#include "fuzz_common.h"

static const int64_t kAny[] = {-1, 3};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = kiln_fuzz_file(data, size);
  char err[256];
  kiln_sequence s;
  memset(&s, 0, sizeof s);
  if (kiln_sequence_read_pb(path, &s, err, sizeof err) == KILN_OK) {
    kiln_tensor_info infos[] = {
        {"s", s.elem_type, 2, kAny, 0, KILN_KIND_SEQUENCE},
        {"o", KILN_FLOAT, -1, NULL, 0, KILN_KIND_OPTIONAL_SEQUENCE}};
    for (size_t i = 0; i < sizeof infos / sizeof *infos; ++i)
      (void)kiln_sequence_check(&s, &infos[i], err, sizeof err);
    for (int64_t i = 0; i < s.length; ++i)
      kiln_fuzz_touch(s.items[i].data, s.items[i].byte_size);
    (void)kiln_sequence_write_pb(kiln_fuzz_out_path(), &s, "s", s.none, err,
                                 sizeof err);
  }
  kiln_sequence_free(&s);
  kiln_tensor t;
  memset(&t, 0, sizeof t);
  int32_t present = 0;
  if (kiln_optional_read_pb(path, &t, &present, err, sizeof err) == KILN_OK &&
      present)
    kiln_fuzz_touch(t.data, t.byte_size);
  kiln_tensor_free(&t);
  return 0;
}
