//===- RuntimeTest.cpp - unit tests for the Kiln C runtime ----------------===//
//
// Tensor I/O (.pb and .npy), tensor checks, the arena, the thread pool, and
// the standalone
// executable main() driven through fake_model_exe (FakeModelExe.*).
//
//===----------------------------------------------------------------------===//
#include "kiln/runtime.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <thread>
#include <atomic>
#include <vector>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;

// A temporary directory per test, removed afterwards.
class TmpDirTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kiln_rt_XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    ASSERT_NE(mkdtemp(buf.data()), nullptr);
    dir = buf.data();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string &name) const {
    return (fs::path(dir) / name).string();
  }
  std::string dir;
};

void writeBytes(const std::string &path, const Bytes &b) {
  // Unlink first: truncating an existing file makes ext4 flush it on close.
  std::remove(path.c_str());
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char *>(b.data()),
          static_cast<std::streamsize>(b.size()));
}

Bytes readBytes(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

std::string readText(const std::string &path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Protobuf encoding helpers for hand-built TensorProtos.
void varint(Bytes &b, uint64_t v) {
  while (v >= 0x80) {
    b.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  b.push_back(static_cast<uint8_t>(v));
}
void tag(Bytes &b, unsigned field, unsigned wt) { varint(b, field << 3 | wt); }
void fieldVarint(Bytes &b, unsigned field, uint64_t v) {
  tag(b, field, 0);
  varint(b, v);
}
void fieldBytes(Bytes &b, unsigned field, const Bytes &payload) {
  tag(b, field, 2);
  varint(b, payload.size());
  b.insert(b.end(), payload.begin(), payload.end());
}
template <typename T> void appendRaw(Bytes &b, T v) {
  uint8_t tmp[sizeof(T)];
  std::memcpy(tmp, &v, sizeof(T));
  b.insert(b.end(), tmp, tmp + sizeof(T));
}
Bytes packedVarints(const std::vector<int64_t> &vs) {
  Bytes p;
  for (int64_t v : vs)
    varint(p, static_cast<uint64_t>(v));
  return p;
}

struct Tensor {
  kiln_tensor t{};
  Tensor() = default;
  Tensor(const Tensor &) = delete;
  ~Tensor() { kiln_tensor_free(&t); }
};

// Reads `path`, returning the status; `err` receives the message.
int32_t readFile(const std::string &path, Tensor &out, std::string *err) {
  char buf[512];
  kiln_tensor_free(&out.t);
  int32_t rc = kiln_tensor_read_file(path.c_str(), &out.t, buf, sizeof buf);
  if (err)
    *err = rc == KILN_OK ? "" : buf;
  return rc;
}

template <typename T> std::vector<T> values(const kiln_tensor &t) {
  std::vector<T> v(t.byte_size / sizeof(T));
  if (!v.empty())
    std::memcpy(v.data(), t.data, t.byte_size);
  return v;
}

const int32_t kAllTypes[] = {KILN_FLOAT,  KILN_UINT8,   KILN_INT8,
                             KILN_UINT16, KILN_INT16,   KILN_INT32,
                             KILN_INT64,  KILN_BOOL,    KILN_FLOAT16,
                             KILN_DOUBLE, KILN_UINT32,  KILN_UINT64,
                             KILN_BFLOAT16};

// A tensor of `type` and `shape` filled with a deterministic byte pattern.
kiln_tensor makeTensor(int32_t type, std::vector<int64_t> shape,
                       std::vector<uint8_t> &storage) {
  kiln_tensor t{};
  t.elem_type = type;
  t.rank = static_cast<int32_t>(shape.size());
  uint64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    t.shape[i] = shape[i];
    n *= static_cast<uint64_t>(shape[i]);
  }
  t.byte_size = n * kiln_elem_size(type);
  storage.resize(t.byte_size);
  for (size_t i = 0; i < storage.size(); ++i)
    storage[i] = type == KILN_BOOL ? (i % 3 == 0) : static_cast<uint8_t>(i * 37 + 11);
  t.data = storage.data();
  return t;
}

void expectSameTensor(const kiln_tensor &a, const kiln_tensor &b) {
  EXPECT_EQ(a.elem_type, b.elem_type);
  ASSERT_EQ(a.rank, b.rank);
  for (int i = 0; i < a.rank; ++i)
    EXPECT_EQ(a.shape[i], b.shape[i]) << "dim " << i;
  ASSERT_EQ(a.byte_size, b.byte_size);
  if (a.byte_size) {
    EXPECT_EQ(0, std::memcmp(a.data, b.data, a.byte_size));
  }
}

//===----------------------------------------------------------------------===//
// Status strings and element sizes
//===----------------------------------------------------------------------===//

TEST(Status, StringsAreDistinct) {
  std::vector<std::string> seen;
  for (int32_t s = KILN_OK; s <= KILN_ERROR_UNSUPPORTED; ++s) {
    std::string str = kiln_status_string(s);
    EXPECT_FALSE(str.empty());
    for (const auto &o : seen)
      EXPECT_NE(o, str);
    seen.push_back(str);
  }
  EXPECT_STREQ("unknown error", kiln_status_string(1234));
  EXPECT_STREQ("unknown error", kiln_status_string(-1));
}

TEST(Status, ElemSizes) {
  EXPECT_EQ(4u, kiln_elem_size(KILN_FLOAT));
  EXPECT_EQ(1u, kiln_elem_size(KILN_UINT8));
  EXPECT_EQ(1u, kiln_elem_size(KILN_INT8));
  EXPECT_EQ(2u, kiln_elem_size(KILN_UINT16));
  EXPECT_EQ(2u, kiln_elem_size(KILN_INT16));
  EXPECT_EQ(4u, kiln_elem_size(KILN_INT32));
  EXPECT_EQ(8u, kiln_elem_size(KILN_INT64));
  EXPECT_EQ(0u, kiln_elem_size(KILN_STRING));
  EXPECT_EQ(1u, kiln_elem_size(KILN_BOOL));
  EXPECT_EQ(2u, kiln_elem_size(KILN_FLOAT16));
  EXPECT_EQ(8u, kiln_elem_size(KILN_DOUBLE));
  EXPECT_EQ(4u, kiln_elem_size(KILN_UINT32));
  EXPECT_EQ(8u, kiln_elem_size(KILN_UINT64));
  EXPECT_EQ(2u, kiln_elem_size(KILN_BFLOAT16));
  EXPECT_EQ(0u, kiln_elem_size(0));
  EXPECT_EQ(0u, kiln_elem_size(14)); // complex64
  EXPECT_EQ(0u, kiln_elem_size(-3));
  EXPECT_EQ(0u, kiln_elem_size(999));
}

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

class TensorIO : public TmpDirTest {};

TEST_F(TensorIO, PbRoundTripAllTypes) {
  for (int32_t type : kAllTypes) {
    for (auto shape : std::vector<std::vector<int64_t>>{
             {2, 3}, {}, {5}, {0, 4}, {1, 1, 1, 1, 1, 1, 2, 3}}) {
      SCOPED_TRACE(::testing::Message() << "type " << type << " rank "
                                        << shape.size());
      Bytes storage;
      kiln_tensor t = makeTensor(type, shape, storage);
      std::string p = path("t.pb");
      char err[256] = "";
      ASSERT_EQ(KILN_OK, kiln_tensor_write_pb(p.c_str(), &t, "my_tensor", err,
                                              sizeof err))
          << err;
      Tensor back;
      std::string msg;
      ASSERT_EQ(KILN_OK, readFile(p, back, &msg)) << msg;
      expectSameTensor(t, back.t);
    }
  }
}

TEST_F(TensorIO, PbLayoutIsPlainTensorProto) {
  float v[3] = {1.f, 2.f, 3.f};
  kiln_tensor t{};
  t.elem_type = KILN_FLOAT;
  t.rank = 1;
  t.shape[0] = 3;
  t.data = v;
  t.byte_size = sizeof v;
  std::string p = path("x.pb");
  ASSERT_EQ(KILN_OK, kiln_tensor_write_pb(p.c_str(), &t, "x", nullptr, 0));
  Bytes expect;
  fieldVarint(expect, 1, 3);
  fieldVarint(expect, 2, KILN_FLOAT);
  fieldBytes(expect, 8, Bytes{'x'});
  Bytes raw;
  for (float f : v)
    appendRaw(raw, f);
  fieldBytes(expect, 9, raw);
  EXPECT_EQ(expect, readBytes(p));
  // No name: the field is omitted.
  ASSERT_EQ(KILN_OK, kiln_tensor_write_pb(p.c_str(), &t, nullptr, nullptr, 0));
  EXPECT_EQ(expect.size() - 3, readBytes(p).size());
}

TEST_F(TensorIO, NpyRoundTripAllTypes) {
  for (int32_t type : kAllTypes) {
    for (auto shape : std::vector<std::vector<int64_t>>{
             {2, 3}, {}, {5}, {0, 4}, {1, 1, 1, 1, 1, 1, 2, 3}}) {
      SCOPED_TRACE(::testing::Message() << "type " << type << " rank "
                                        << shape.size());
      Bytes storage;
      kiln_tensor t = makeTensor(type, shape, storage);
      std::string p = path("t.npy");
      char err[256] = "";
      int32_t rc = kiln_tensor_write_npy(p.c_str(), &t, err, sizeof err);
      if (type == KILN_BFLOAT16) { // NumPy has no bfloat16 dtype
        EXPECT_EQ(KILN_ERROR_UNSUPPORTED, rc);
        EXPECT_NE(std::string(err).find("t.npy"), std::string::npos) << err;
        continue;
      }
      ASSERT_EQ(KILN_OK, rc) << err;
      Bytes file = readBytes(p);
      ASSERT_GE(file.size(), 10u);
      size_t hlen = file[8] | file[9] << 8;
      EXPECT_EQ(0u, (10 + hlen) % 64);
      EXPECT_EQ('\n', file[10 + hlen - 1]);
      EXPECT_EQ(1, file[6]);
      EXPECT_EQ(0, file[7]);
      Tensor back;
      std::string msg;
      ASSERT_EQ(KILN_OK, readFile(p, back, &msg)) << msg;
      expectSameTensor(t, back.t);
    }
  }
}

TEST_F(TensorIO, NpyHeaderText) {
  struct Case {
    int32_t type;
    std::vector<int64_t> shape;
    const char *header;
  } cases[] = {
      {KILN_FLOAT, {2, 3},
       "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
      {KILN_INT64, {3}, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"},
      {KILN_BOOL, {}, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }"},
      {KILN_INT8, {1}, "{'descr': '|i1', 'fortran_order': False, 'shape': (1,), }"},
  };
  for (const auto &c : cases) {
    Bytes storage;
    kiln_tensor t = makeTensor(c.type, c.shape, storage);
    std::string p = path("h.npy");
    ASSERT_EQ(KILN_OK, kiln_tensor_write_npy(p.c_str(), &t, nullptr, 0));
    Bytes file = readBytes(p);
    size_t hlen = file[8] | file[9] << 8;
    std::string header(file.begin() + 10, file.begin() + 10 + hlen);
    EXPECT_EQ(0u, header.find(c.header)) << header;
  }
}

//===----------------------------------------------------------------------===//
// Hand-built protobuf
//===----------------------------------------------------------------------===//

TEST_F(TensorIO, PbNonPackedDimsAndFloatData) {
  Bytes b;
  fieldBytes(b, 8, Bytes{'w'}); // name first: field order must not matter
  for (float f : {1.5f, -2.f, 3.25f, 0.f, 1e30f, -0.5f}) {
    tag(b, 4, 5); // float_data, non-packed fixed32
    appendRaw(b, f);
  }
  fieldVarint(b, 1, 2); // dims, non-packed
  fieldVarint(b, 1, 3);
  fieldVarint(b, 2, KILN_FLOAT); // data_type after the data
  std::string p = path("w.pb");
  writeBytes(p, b);
  Tensor t;
  std::string msg;
  ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
  EXPECT_EQ(KILN_FLOAT, t.t.elem_type);
  ASSERT_EQ(2, t.t.rank);
  EXPECT_EQ(2, t.t.shape[0]);
  EXPECT_EQ(3, t.t.shape[1]);
  EXPECT_EQ((std::vector<float>{1.5f, -2.f, 3.25f, 0.f, 1e30f, -0.5f}),
            values<float>(t.t));
}

TEST_F(TensorIO, PbPackedFloatsSplitAcrossFieldsAndUnknownFields) {
  Bytes b;
  fieldBytes(b, 1, packedVarints({2, 2})); // packed dims
  fieldVarint(b, 2, KILN_FLOAT);
  Bytes p1, p2;
  appendRaw(p1, 1.f);
  appendRaw(p1, 2.f);
  appendRaw(p2, 3.f);
  fieldBytes(b, 4, p1);
  // Unknown fields of every wire type, plus segment and doc_string.
  fieldVarint(b, 20, 12345678901ull);
  tag(b, 21, 1);
  appendRaw(b, uint64_t(7));
  fieldBytes(b, 22, Bytes{1, 2, 3});
  tag(b, 23, 3); // group containing a varint and a nested group
  fieldVarint(b, 1, 5);
  tag(b, 2, 3);
  tag(b, 2, 4);
  tag(b, 23, 4);
  tag(b, 24, 5);
  appendRaw(b, uint32_t(9));
  fieldBytes(b, 3, Bytes{0x08, 0x00, 0x10, 0x04}); // segment
  fieldBytes(b, 12, Bytes{'d', 'o', 'c'});          // doc_string
  fieldVarint(b, 14, 0);                            // data_location DEFAULT
  fieldBytes(b, 4, p2);
  tag(b, 4, 5); // mixing packed and non-packed is legal
  appendRaw(b, 4.f);
  std::string p = path("p.pb");
  writeBytes(p, b);
  Tensor t;
  std::string msg;
  ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
  EXPECT_EQ((std::vector<float>{1.f, 2.f, 3.f, 4.f}), values<float>(t.t));
}

TEST_F(TensorIO, PbInt32DataForSmallTypes) {
  struct Case {
    int32_t type;
    std::vector<int64_t> in;
    Bytes expect;
  };
  auto le16 = [](std::vector<uint16_t> v) {
    Bytes b;
    for (auto x : v)
      appendRaw(b, x);
    return b;
  };
  auto le32 = [](std::vector<int32_t> v) {
    Bytes b;
    for (auto x : v)
      appendRaw(b, x);
    return b;
  };
  std::vector<Case> cases = {
      {KILN_INT8, {-128, -1, 0, 127}, Bytes{0x80, 0xff, 0x00, 0x7f}},
      {KILN_UINT8, {0, 1, 200, 255}, Bytes{0, 1, 200, 255}},
      {KILN_BOOL, {0, 1, 0, 1}, Bytes{0, 1, 0, 1}},
      {KILN_INT16, {-32768, -2, 5, 32767}, le16({0x8000, 0xfffe, 5, 0x7fff})},
      {KILN_UINT16, {0, 1, 40000, 65535}, le16({0, 1, 40000, 65535})},
      {KILN_FLOAT16, {0x3c00, 0xc000, 0, 0x7bff}, le16({0x3c00, 0xc000, 0, 0x7bff})},
      {KILN_BFLOAT16, {0x3f80, 0, 0xbf80, 1}, le16({0x3f80, 0, 0xbf80, 1})},
      {KILN_INT32, {INT32_MIN, -1, 0, INT32_MAX}, le32({INT32_MIN, -1, 0, INT32_MAX})},
  };
  for (bool packed : {true, false}) {
    for (const auto &c : cases) {
      SCOPED_TRACE(::testing::Message() << "type " << c.type << " packed "
                                        << packed);
      Bytes b;
      fieldVarint(b, 1, 4);
      fieldVarint(b, 2, static_cast<uint64_t>(c.type));
      if (packed) {
        fieldBytes(b, 5, packedVarints(c.in));
      } else {
        for (int64_t v : c.in) // negative int32 are 10-byte varints
          fieldVarint(b, 5, static_cast<uint64_t>(v));
      }
      std::string p = path("i.pb");
      writeBytes(p, b);
      Tensor t;
      std::string msg;
      ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
      EXPECT_EQ(c.type, t.t.elem_type);
      ASSERT_EQ(c.expect.size(), t.t.byte_size);
      EXPECT_EQ(c.expect, values<uint8_t>(t.t));
    }
  }
}

TEST_F(TensorIO, PbInt64DoubleUint64Data) {
  {
    Bytes b;
    fieldVarint(b, 1, 3);
    fieldVarint(b, 2, KILN_INT64);
    fieldVarint(b, 7, static_cast<uint64_t>(INT64_MIN));
    fieldBytes(b, 7, packedVarints({-1, INT64_MAX}));
    std::string p = path("i64.pb");
    writeBytes(p, b);
    Tensor t;
    std::string msg;
    ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
    EXPECT_EQ((std::vector<int64_t>{INT64_MIN, -1, INT64_MAX}),
              values<int64_t>(t.t));
  }
  {
    Bytes b, d;
    fieldVarint(b, 2, KILN_DOUBLE); // scalar: no dims
    appendRaw(d, 3.141592653589793);
    fieldBytes(b, 10, d);
    std::string p = path("f64.pb");
    writeBytes(p, b);
    Tensor t;
    std::string msg;
    ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
    EXPECT_EQ(0, t.t.rank);
    EXPECT_EQ((std::vector<double>{3.141592653589793}), values<double>(t.t));
  }
  {
    Bytes b;
    fieldVarint(b, 1, 2);
    fieldVarint(b, 2, KILN_DOUBLE);
    tag(b, 10, 1);
    appendRaw(b, -1.0);
    tag(b, 10, 1);
    appendRaw(b, 2.5);
    std::string p = path("f64b.pb");
    writeBytes(p, b);
    Tensor t;
    std::string msg;
    ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
    EXPECT_EQ((std::vector<double>{-1.0, 2.5}), values<double>(t.t));
  }
  {
    Bytes b;
    fieldVarint(b, 1, 2);
    fieldVarint(b, 2, KILN_UINT32);
    fieldBytes(b, 11, packedVarints({0, static_cast<int64_t>(UINT32_MAX)}));
    std::string p = path("u32.pb");
    writeBytes(p, b);
    Tensor t;
    std::string msg;
    ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
    EXPECT_EQ((std::vector<uint32_t>{0, UINT32_MAX}), values<uint32_t>(t.t));
  }
  {
    Bytes b;
    fieldVarint(b, 1, 2);
    fieldVarint(b, 2, KILN_UINT64);
    fieldVarint(b, 11, UINT64_MAX);
    fieldVarint(b, 11, 1);
    std::string p = path("u64.pb");
    writeBytes(p, b);
    Tensor t;
    std::string msg;
    ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
    EXPECT_EQ((std::vector<uint64_t>{UINT64_MAX, 1}), values<uint64_t>(t.t));
  }
}

TEST_F(TensorIO, PbEmptyTensorNeedsNoData) {
  Bytes b;
  fieldVarint(b, 1, 0);
  fieldVarint(b, 1, 7);
  fieldVarint(b, 2, KILN_FLOAT);
  std::string p = path("e.pb");
  writeBytes(p, b);
  Tensor t;
  std::string msg;
  ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
  EXPECT_EQ(0u, t.t.byte_size);
  EXPECT_EQ(2, t.t.rank);
}

//===----------------------------------------------------------------------===//
// Hand-built .npy
//===----------------------------------------------------------------------===//

Bytes npyFile(int major, const std::string &header, const Bytes &data) {
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  if (major == 1) {
    appendRaw(b, static_cast<uint16_t>(header.size()));
  } else {
    appendRaw(b, static_cast<uint32_t>(header.size()));
  }
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

TEST_F(TensorIO, NpyVersionsAndHeaderVariants) {
  Bytes i32;
  for (int32_t v : {7, -8, 9})
    appendRaw(i32, v);
  struct Case {
    int major;
    std::string header;
  } cases[] = {
      {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }\n"},
      {2, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }\n"},
      {3, "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (3,)}  \n"},
      {1, "{'shape': (3L,), 'fortran_order': False, 'descr': 'i4'}"},
      {1, "{'descr':'<i4','fortran_order':False,'shape':(3,)}"},
      {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 3, 1), }"},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.header);
    std::string p = path("v.npy");
    writeBytes(p, npyFile(c.major, c.header, i32));
    Tensor t;
    std::string msg;
    ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
    EXPECT_EQ(KILN_INT32, t.t.elem_type);
    EXPECT_EQ((std::vector<int32_t>{7, -8, 9}), values<int32_t>(t.t));
  }
}

TEST_F(TensorIO, NpyDtypes) {
  struct Case {
    const char *descr;
    int32_t type;
  } cases[] = {{"<f4", KILN_FLOAT},  {"<f8", KILN_DOUBLE}, {"<i1", KILN_INT8},
               {"|i1", KILN_INT8},   {"<u1", KILN_UINT8},  {"|u1", KILN_UINT8},
               {"|b1", KILN_BOOL},   {"<i2", KILN_INT16},  {"<u2", KILN_UINT16},
               {"<i4", KILN_INT32},  {"<u4", KILN_UINT32}, {"<i8", KILN_INT64},
               {"<u8", KILN_UINT64}, {"<f2", KILN_FLOAT16}};
  for (const auto &c : cases) {
    SCOPED_TRACE(c.descr);
    size_t es = kiln_elem_size(c.type);
    Bytes data(2 * es, 1);
    std::string hdr = std::string("{'descr': '") + c.descr +
                      "', 'fortran_order': False, 'shape': (2,), }\n";
    std::string p = path("d.npy");
    writeBytes(p, npyFile(1, hdr, data));
    Tensor t;
    std::string msg;
    ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
    EXPECT_EQ(c.type, t.t.elem_type);
    EXPECT_EQ(2 * es, t.t.byte_size);
  }
}

TEST_F(TensorIO, NpyScalar) {
  Bytes d;
  appendRaw(d, 2.5f);
  std::string p = path("s.npy");
  writeBytes(p, npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", d));
  Tensor t;
  std::string msg;
  ASSERT_EQ(KILN_OK, readFile(p, t, &msg)) << msg;
  EXPECT_EQ(0, t.t.rank);
  EXPECT_EQ((std::vector<float>{2.5f}), values<float>(t.t));
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

struct BadCase {
  std::string what;
  Bytes bytes;
  int32_t code;
  std::string needle; // expected in the message
};

class TensorIOErrors : public TmpDirTest {
protected:
  void expectError(const BadCase &c) {
    SCOPED_TRACE(c.what);
    std::string p = path("bad_" + std::to_string(counter++) + ".bin");
    writeBytes(p, c.bytes);
    Tensor t;
    std::string msg;
    EXPECT_EQ(c.code, readFile(p, t, &msg)) << msg;
    EXPECT_EQ(nullptr, t.t.data);
    EXPECT_NE(msg.find(p), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  int counter = 0;
};

TEST_F(TensorIOErrors, MissingFileAndDirectory) {
  Tensor t;
  std::string msg;
  std::string p = path("nope.pb");
  EXPECT_EQ(KILN_ERROR_IO, readFile(p, t, &msg));
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;
  EXPECT_EQ(KILN_ERROR_IO, readFile(dir, t, &msg));
  EXPECT_NE(msg.find(dir), std::string::npos) << msg;
}

TEST_F(TensorIOErrors, BadTensorProtos) {
  std::vector<BadCase> cases;
  cases.push_back({"empty file", {}, KILN_ERROR_FORMAT, "missing data_type"});
  {
    Bytes b;
    fieldVarint(b, 2, KILN_STRING);
    fieldBytes(b, 6, Bytes{'h', 'i'});
    cases.push_back({"string_data", b, KILN_ERROR_UNSUPPORTED, "string"});
  }
  {
    Bytes b;
    fieldVarint(b, 2, KILN_STRING);
    cases.push_back({"string type", b, KILN_ERROR_UNSUPPORTED, "string"});
  }
  {
    Bytes b;
    fieldVarint(b, 2, 14);
    cases.push_back({"complex64", b, KILN_ERROR_UNSUPPORTED, "complex64"});
  }
  {
    Bytes b, kv;
    fieldBytes(kv, 1, Bytes{'l', 'o', 'c'});
    fieldVarint(b, 1, 2);
    fieldVarint(b, 2, KILN_FLOAT);
    fieldBytes(b, 13, kv);
    fieldVarint(b, 14, 1);
    cases.push_back({"external_data", b, KILN_ERROR_UNSUPPORTED, "external"});
  }
  {
    Bytes b;
    fieldVarint(b, 1, 2);
    fieldVarint(b, 2, KILN_FLOAT);
    fieldVarint(b, 14, 1);
    cases.push_back({"data_location", b, KILN_ERROR_UNSUPPORTED, "external"});
  }
  {
    Bytes b;
    fieldVarint(b, 1, 2);
    fieldVarint(b, 1, 3);
    fieldVarint(b, 2, KILN_FLOAT);
    fieldBytes(b, 9, Bytes(20, 0));
    cases.push_back({"raw_data size", b, KILN_ERROR_FORMAT,
                     "raw_data has 20 bytes, expected 24 for float32[2,3]"});
  }
  {
    Bytes b;
    fieldVarint(b, 1, 4);
    fieldVarint(b, 2, KILN_FLOAT);
    Bytes f;
    appendRaw(f, 1.f);
    fieldBytes(b, 4, f);
    cases.push_back({"too few float_data", b, KILN_ERROR_FORMAT,
                     "float_data has 1 values, expected 4"});
  }
  {
    Bytes b;
    fieldVarint(b, 1, 4);
    fieldVarint(b, 2, KILN_FLOAT);
    cases.push_back({"no data", b, KILN_ERROR_FORMAT, "has no data"});
  }
  {
    Bytes b;
    fieldVarint(b, 1, 1);
    fieldVarint(b, 2, KILN_INT64);
    Bytes f;
    appendRaw(f, 1.f);
    fieldBytes(b, 4, f);
    cases.push_back({"float_data for int64", b, KILN_ERROR_FORMAT, "float_data"});
  }
  {
    Bytes b;
    fieldVarint(b, 1, 1);
    fieldVarint(b, 2, KILN_FLOAT);
    Bytes f;
    appendRaw(f, 1.f);
    fieldBytes(b, 4, f);
    fieldBytes(b, 9, f);
    cases.push_back({"raw and typed", b, KILN_ERROR_FORMAT, "both raw_data"});
  }
  {
    Bytes b;
    for (int i = 0; i < 9; ++i)
      fieldVarint(b, 1, 1);
    fieldVarint(b, 2, KILN_FLOAT);
    cases.push_back({"rank 9", b, KILN_ERROR_UNSUPPORTED, "rank"});
  }
  {
    Bytes b;
    fieldVarint(b, 1, 1ull << 40);
    fieldVarint(b, 1, 1ull << 40);
    fieldVarint(b, 2, KILN_FLOAT);
    fieldBytes(b, 9, Bytes(4, 0));
    cases.push_back({"overflowing shape", b, KILN_ERROR_FORMAT, "too large"});
  }
  {
    Bytes b;
    fieldVarint(b, 1, 1ull << 30);
    fieldVarint(b, 1, 1ull << 30);
    fieldVarint(b, 2, KILN_DOUBLE);
    fieldBytes(b, 9, Bytes(8, 0));
    cases.push_back({"huge shape, tiny data", b, KILN_ERROR_FORMAT, "raw_data"});
  }
  {
    Bytes b;
    fieldVarint(b, 1, static_cast<uint64_t>(-3));
    fieldVarint(b, 2, KILN_FLOAT);
    cases.push_back({"negative dim", b, KILN_ERROR_FORMAT, "negative"});
  }
  {
    Bytes b;
    fieldVarint(b, 2, KILN_FLOAT);
    tag(b, 9, 2);
    varint(b, 1000); // length past the end
    b.push_back(0);
    cases.push_back({"length past end", b, KILN_ERROR_FORMAT, "truncated"});
  }
  {
    Bytes b;
    fieldVarint(b, 2, KILN_FLOAT);
    for (int i = 0; i < 11; ++i)
      b.push_back(0xff); // overlong varint
    cases.push_back({"overlong varint", b, KILN_ERROR_FORMAT, "TensorProto"});
  }
  {
    Bytes b;
    tag(b, 2, 2); // data_type as bytes
    varint(b, 1);
    b.push_back(1);
    cases.push_back({"wrong wire type", b, KILN_ERROR_FORMAT, "wire type"});
  }
  {
    Bytes b;
    fieldVarint(b, 2, KILN_FLOAT);
    tag(b, 30, 4); // stray end-group
    cases.push_back({"stray end group", b, KILN_ERROR_FORMAT, "TensorProto"});
  }
  {
    Bytes b;
    fieldVarint(b, 2, KILN_FLOAT);
    tag(b, 30, 3); // unterminated group
    fieldVarint(b, 1, 1);
    cases.push_back({"open group", b, KILN_ERROR_FORMAT, "field 30"});
  }
  {
    Bytes b;
    fieldVarint(b, 2, KILN_FLOAT);
    tag(b, 4, 2);
    varint(b, 3); // packed floats, not a multiple of 4
    b.insert(b.end(), {0, 0, 0});
    cases.push_back({"packed float size", b, KILN_ERROR_FORMAT, "multiple of 4"});
  }
  {
    Bytes b = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'};
    cases.push_back({"text file", b, KILN_ERROR_FORMAT, "TensorProto"});
  }
  for (const auto &c : cases)
    expectError(c);
}

TEST_F(TensorIOErrors, BadNpy) {
  Bytes f4(24, 0);
  const std::string good =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
  std::vector<BadCase> cases = {
      {"fortran", npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", f4),
       KILN_ERROR_UNSUPPORTED, "Fortran"},
      {"big endian", npyFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }\n", f4),
       KILN_ERROR_UNSUPPORTED, "big-endian"},
      {"complex", npyFile(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }\n", f4),
       KILN_ERROR_UNSUPPORTED, "'<c8'"},
      {"object", npyFile(1, "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }\n", f4),
       KILN_ERROR_UNSUPPORTED, "'|O'"},
      {"structured", npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }\n", f4),
       KILN_ERROR_UNSUPPORTED, "structured"},
      {"short data", npyFile(1, good, Bytes(23, 0)), KILN_ERROR_FORMAT,
       "has 23 bytes, expected 24 for float32[2,3]"},
      {"long data", npyFile(1, good, Bytes(25, 0)), KILN_ERROR_FORMAT,
       "has 25 bytes"},
      {"version 4", npyFile(4, good, f4), KILN_ERROR_UNSUPPORTED, "version 4.0"},
      {"missing key", npyFile(1, "{'descr': '<f4', 'shape': (2, 3), }\n", f4),
       KILN_ERROR_FORMAT, "lacks"},
      {"extra key", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}\n", f4),
       KILN_ERROR_FORMAT, "unexpected key"},
      {"bad shape", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }\n", f4),
       KILN_ERROR_FORMAT, "malformed"},
      {"unterminated", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", f4),
       KILN_ERROR_FORMAT, "malformed"},
      {"rank 9", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }\n", f4),
       KILN_ERROR_UNSUPPORTED, "rank"},
      {"huge dim", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n", f4),
       KILN_ERROR_FORMAT, "too large"},
      {"overflow", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n", f4),
       KILN_ERROR_FORMAT, "too large"},
      {"magic only", Bytes{0x93, 'N', 'U', 'M', 'P', 'Y'}, KILN_ERROR_FORMAT,
       "truncated"},
  };
  for (const auto &c : cases)
    expectError(c);
  // Header length past the end of the file.
  Bytes b = npyFile(1, good, f4);
  b[8] = 0xff;
  b[9] = 0xff;
  expectError({"header length", b, KILN_ERROR_FORMAT, "truncated"});
}

// Every proper prefix of a valid file is an error, never a crash.
TEST_F(TensorIOErrors, TruncatedFilesNeverCrash) {
  Bytes storage;
  kiln_tensor t = makeTensor(KILN_FLOAT, {2, 3}, storage);
  for (const char *name : {"full.pb", "full.npy"}) {
    std::string p = path(name);
    int32_t rc = std::string(name).find(".npy") != std::string::npos
                     ? kiln_tensor_write_npy(p.c_str(), &t, nullptr, 0)
                     : kiln_tensor_write_pb(p.c_str(), &t, "t", nullptr, 0);
    ASSERT_EQ(KILN_OK, rc);
    Bytes full = readBytes(p);
    for (size_t n = 0; n < full.size(); ++n) {
      SCOPED_TRACE(::testing::Message() << name << " prefix " << n);
      std::string q = path("prefix");
      writeBytes(q, Bytes(full.begin(), full.begin() + n));
      Tensor back;
      std::string msg;
      int32_t r = readFile(q, back, &msg);
      EXPECT_NE(KILN_OK, r);
      EXPECT_NE(msg.find(q), std::string::npos) << msg;
      EXPECT_EQ(nullptr, back.t.data);
    }
  }
}

// Random bytes and bit-flipped valid files: any result is fine as long as
// it is consistent and nothing crashes (run under ASan/UBSan to be sure).
TEST_F(TensorIOErrors, GarbageNeverCrashes) {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  Bytes storage;
  kiln_tensor t = makeTensor(KILN_INT64, {3, 2}, storage);
  std::string pb = path("g.pb"), npy = path("g.npy");
  ASSERT_EQ(KILN_OK, kiln_tensor_write_pb(pb.c_str(), &t, "g", nullptr, 0));
  ASSERT_EQ(KILN_OK, kiln_tensor_write_npy(npy.c_str(), &t, nullptr, 0));
  const Bytes seeds[] = {readBytes(pb), readBytes(npy)};
  std::string q = path("garbage");
  for (int iter = 0; iter < 3000; ++iter) {
    Bytes b;
    if (iter % 3 == 0) {
      b.resize(next() % 64);
      for (auto &x : b)
        x = static_cast<uint8_t>(next());
      if (iter % 2)
        b.insert(b.begin(), {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    } else {
      b = seeds[iter % 2];
      int flips = 1 + static_cast<int>(next() % 4);
      for (int k = 0; k < flips; ++k)
        b[next() % b.size()] ^= static_cast<uint8_t>(1u << (next() % 8));
      if (next() % 4 == 0)
        b.resize(next() % b.size());
    }
    writeBytes(q, b);
    Tensor back;
    std::string msg;
    int32_t rc = readFile(q, back, &msg);
    if (rc == KILN_OK) {
      uint64_t n = kiln_elem_size(back.t.elem_type);
      ASSERT_NE(0u, n);
      ASSERT_LE(back.t.rank, 8);
      for (int i = 0; i < back.t.rank; ++i)
        n *= static_cast<uint64_t>(back.t.shape[i]);
      EXPECT_EQ(n, back.t.byte_size);
      EXPECT_LE(back.t.byte_size, 8 * b.size());
    } else {
      EXPECT_FALSE(msg.empty());
      EXPECT_EQ(nullptr, back.t.data);
    }
  }
}

TEST_F(TensorIOErrors, SmallAndNullErrorBuffers) {
  std::string p = path("missing.pb");
  kiln_tensor t;
  char err[8];
  std::memset(err, 'x', sizeof err);
  EXPECT_EQ(KILN_ERROR_IO, kiln_tensor_read_file(p.c_str(), &t, err, sizeof err));
  EXPECT_EQ('\0', err[7]);
  EXPECT_EQ(KILN_ERROR_IO, kiln_tensor_read_file(p.c_str(), &t, nullptr, 0));
  EXPECT_EQ(KILN_ERROR_IO, kiln_tensor_read_file(p.c_str(), &t, err, 0));
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT,
            kiln_tensor_read_file(p.c_str(), nullptr, err, sizeof err));
}

TEST_F(TensorIOErrors, WriteErrorsLeaveNothingBehind) {
  Bytes storage;
  kiln_tensor t = makeTensor(KILN_FLOAT, {2, 3}, storage);
  char err[512];
  std::string p = path("no/such/dir/out.pb");
  EXPECT_EQ(KILN_ERROR_IO, kiln_tensor_write_pb(p.c_str(), &t, "t", err, sizeof err));
  EXPECT_NE(std::string(err).find(p), std::string::npos) << err;
  EXPECT_EQ(KILN_ERROR_IO, kiln_tensor_write_npy(p.c_str(), &t, err, sizeof err));

  // A byte_size that disagrees with the shape is rejected before any write.
  kiln_tensor bad = t;
  bad.byte_size = 20;
  std::string q = path("bad.pb");
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT,
            kiln_tensor_write_pb(q.c_str(), &bad, "t", err, sizeof err));
  bad = t;
  bad.elem_type = KILN_STRING;
  EXPECT_EQ(KILN_ERROR_UNSUPPORTED,
            kiln_tensor_write_pb(q.c_str(), &bad, "t", err, sizeof err));
  bad = t;
  bad.data = nullptr;
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT,
            kiln_tensor_write_npy(q.c_str(), &bad, err, sizeof err));
  // Writing over a directory fails and leaves no temporary file.
  std::string d = path("adir");
  fs::create_directory(d);
  EXPECT_EQ(KILN_ERROR_IO, kiln_tensor_write_pb(d.c_str(), &t, "t", err, sizeof err));
  size_t entries = 0;
  for (auto &e : fs::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(1u, entries); // only adir
}

//===----------------------------------------------------------------------===//
// kiln_tensor_check
//===----------------------------------------------------------------------===//

TEST(TensorCheck, Messages) {
  static const int64_t shape[4] = {1, 3, 224, 224};
  kiln_tensor_info info = {"x", KILN_FLOAT, 4, shape, 1 * 3 * 224 * 224 * 4};
  std::vector<uint8_t> storage;
  kiln_tensor t = makeTensor(KILN_FLOAT, {1, 3, 224, 224}, storage);
  char err[256] = "";
  EXPECT_EQ(KILN_OK, kiln_tensor_check(&t, &info, err, sizeof err));

  kiln_tensor s = makeTensor(KILN_FLOAT, {1, 3, 224}, storage);
  EXPECT_EQ(KILN_ERROR_SHAPE_MISMATCH, kiln_tensor_check(&s, &info, err, sizeof err));
  EXPECT_STREQ("input 'x': expected float32[1,3,224,224], got float32[1,3,224]", err);

  s = makeTensor(KILN_FLOAT, {1, 3, 224, 225}, storage);
  EXPECT_EQ(KILN_ERROR_SHAPE_MISMATCH, kiln_tensor_check(&s, &info, err, sizeof err));
  EXPECT_STREQ("input 'x': expected float32[1,3,224,224], got float32[1,3,224,225]", err);

  s = makeTensor(KILN_INT64, {1, 3, 224, 224}, storage);
  EXPECT_EQ(KILN_ERROR_TYPE_MISMATCH, kiln_tensor_check(&s, &info, err, sizeof err));
  EXPECT_STREQ("input 'x': expected float32[1,3,224,224], got int64[1,3,224,224]", err);

  static const int64_t none[1] = {0};
  kiln_tensor_info scalar = {"flag", KILN_BOOL, 0, none, 1};
  s = makeTensor(KILN_DOUBLE, {}, storage);
  EXPECT_EQ(KILN_ERROR_TYPE_MISMATCH, kiln_tensor_check(&s, &scalar, err, sizeof err));
  EXPECT_STREQ("input 'flag': expected bool[], got float64[]", err);
  s = makeTensor(KILN_BOOL, {1}, storage);
  EXPECT_EQ(KILN_ERROR_SHAPE_MISMATCH, kiln_tensor_check(&s, &scalar, err, sizeof err));
  EXPECT_STREQ("input 'flag': expected bool[], got bool[1]", err);
  s = makeTensor(KILN_BOOL, {}, storage);
  EXPECT_EQ(KILN_OK, kiln_tensor_check(&s, &scalar, err, sizeof err));

  const std::pair<int32_t, const char *> names[] = {
      {KILN_UINT8, "uint8"},     {KILN_INT8, "int8"},       {KILN_UINT16, "uint16"},
      {KILN_INT16, "int16"},     {KILN_INT32, "int32"},     {KILN_FLOAT16, "float16"},
      {KILN_UINT32, "uint32"},   {KILN_UINT64, "uint64"},   {KILN_BFLOAT16, "bfloat16"}};
  for (auto [type, name] : names) {
    s = makeTensor(type, {1, 3, 224, 224}, storage);
    EXPECT_EQ(KILN_ERROR_TYPE_MISMATCH, kiln_tensor_check(&s, &info, err, sizeof err));
    EXPECT_EQ(std::string("input 'x': expected float32[1,3,224,224], got ") + name +
                  "[1,3,224,224]",
              err);
  }
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT, kiln_tensor_check(nullptr, &info, err, sizeof err));
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT, kiln_tensor_check(&t, nullptr, nullptr, 0));
}

//===----------------------------------------------------------------------===//
// Arena
//===----------------------------------------------------------------------===//

TEST(Arena, AlignmentAndZeroing) {
  for (uint64_t align : {1ull, 8ull, 16ull, 64ull, 128ull, 4096ull}) {
    for (uint64_t size : {0ull, 1ull, 63ull, 64ull, 1000ull, 1ull << 20}) {
      kiln_model_info m{};
      m.abi_version = KILN_ABI_VERSION;
      m.arena_size = size;
      m.arena_align = align;
      auto *p = static_cast<unsigned char *>(kiln_arena_alloc(&m));
      ASSERT_NE(nullptr, p) << "size " << size << " align " << align;
      EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(p) % align);
      for (uint64_t i = 0; i < size; ++i)
        ASSERT_EQ(0, p[i]);
      if (size)
        std::memset(p, 0xab, size); // the whole size is writable
      kiln_arena_free(p);
    }
  }
}

TEST(Arena, BadArguments) {
  EXPECT_EQ(nullptr, kiln_arena_alloc(nullptr));
  kiln_model_info m{};
  m.arena_size = 64;
  m.arena_align = 48; // not a power of two
  EXPECT_EQ(nullptr, kiln_arena_alloc(&m));
  m.arena_align = 64;
  m.arena_size = UINT64_MAX - 10; // overflows when rounded up
  EXPECT_EQ(nullptr, kiln_arena_alloc(&m));
  m.arena_size = 0;
  m.arena_align = 0; // defaults to 64
  void *p = kiln_arena_alloc(&m);
  ASSERT_NE(nullptr, p);
  kiln_arena_free(p);
  kiln_arena_free(nullptr);
}

//===----------------------------------------------------------------------===//
// fake_model_exe: the standalone executable main()
//===----------------------------------------------------------------------===//

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

class FakeModelExe : public TmpDirTest {
protected:
  // Runs fake_model_exe with `args` (already shell-quoted as needed).
  RunResult run(const std::string &args) {
    std::string out = path("stdout.txt"), err = path("stderr.txt");
    std::string cmd = std::string("'") + KILN_FAKE_MODEL_EXE + "' " + args +
                      " >'" + out + "' 2>'" + err + "'";
    int status = std::system(cmd.c_str());
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = readText(out);
    r.err = readText(err);
    fs::remove(out);
    fs::remove(err);
    return r;
  }
  std::string q(const std::string &s) { return "'" + s + "'"; }

  // Writes a float32 tensor as .pb or .npy.
  std::string writeFloat(const std::string &name, std::vector<int64_t> shape,
                         std::vector<float> v) {
    kiln_tensor t{};
    t.elem_type = KILN_FLOAT;
    t.rank = static_cast<int32_t>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i)
      t.shape[i] = shape[i];
    t.data = v.data();
    t.byte_size = v.size() * sizeof(float);
    std::string p = path(name);
    char err[256];
    int32_t rc = name.size() > 4 && name.substr(name.size() - 4) == ".npy"
                     ? kiln_tensor_write_npy(p.c_str(), &t, err, sizeof err)
                     : kiln_tensor_write_pb(p.c_str(), &t, "x", err, sizeof err);
    EXPECT_EQ(KILN_OK, rc) << err;
    return p;
  }

  static size_t countFiles(const std::string &d) {
    if (!fs::exists(d))
      return 0;
    size_t n = 0;
    for (auto &e : fs::recursive_directory_iterator(d)) {
      (void)e;
      ++n;
    }
    return n;
  }

  static void expectOneErrorLine(const RunResult &r, const std::string &needle) {
    EXPECT_EQ(1, r.exit_code);
    EXPECT_EQ(0u, r.err.rfind("error: ", 0)) << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ('\n', r.err.back());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }

  const std::vector<float> a_ = {1, 2, 3, 4, 5, 6};
  const std::vector<float> b_ = {10, 20, 30, 40, 50, 60.5f};
  const std::vector<float> y_ = {11, 22, 33, 44, 55, 66.5f};
};

TEST_F(FakeModelExe, AddsInputsAndWritesPb) {
  std::string a = writeFloat("a.pb", {2, 3}, a_);
  std::string b = writeFloat("b.npy", {2, 3}, b_); // formats may be mixed
  std::string out = path("out/nested/deeper");      // created (mkdir -p)
  RunResult r = run("--output-dir " + q(out) + " " + q(a) + " " + q(b));
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("", r.err);
  EXPECT_EQ("", r.out);

  Tensor y, s;
  std::string msg;
  ASSERT_EQ(KILN_OK, readFile(out + "/output_0.pb", y, &msg)) << msg;
  EXPECT_EQ(KILN_FLOAT, y.t.elem_type);
  ASSERT_EQ(2, y.t.rank);
  EXPECT_EQ(2, y.t.shape[0]);
  EXPECT_EQ(3, y.t.shape[1]);
  EXPECT_EQ(y_, values<float>(y.t));
  // The graph output name is stored in the TensorProto.
  Bytes raw = readBytes(out + "/output_0.pb");
  Bytes name_field = {0x42, 0x01, 'y'};
  EXPECT_NE(std::search(raw.begin(), raw.end(), name_field.begin(), name_field.end()),
            raw.end());

  ASSERT_EQ(KILN_OK, readFile(out + "/output_1.pb", s, &msg)) << msg;
  EXPECT_EQ(KILN_DOUBLE, s.t.elem_type);
  EXPECT_EQ(0, s.t.rank);
  EXPECT_EQ((std::vector<double>{231.5}), values<double>(s.t));
  EXPECT_EQ(2u, countFiles(out)); // no temporary files left
}

TEST_F(FakeModelExe, DefaultOutputDirAndNpyFormat) {
  std::string a = writeFloat("a.npy", {2, 3}, a_);
  std::string b = writeFloat("b.pb", {2, 3}, b_);
  std::string cmd = "cd " + q(dir) + " && '" + std::string(KILN_FAKE_MODEL_EXE) +
                    "' --threads=2 --output-format=npy a.npy b.pb";
  ASSERT_EQ(0, std::system(cmd.c_str()));
  Tensor y;
  std::string msg;
  ASSERT_EQ(KILN_OK, readFile(path("output_0.npy"), y, &msg)) << msg;
  EXPECT_EQ(y_, values<float>(y.t));
  EXPECT_TRUE(fs::exists(path("output_1.npy")));
  EXPECT_FALSE(fs::exists(path("output_0.pb")));
}

TEST_F(FakeModelExe, WrongShapeFailsWithoutOutputs) {
  std::string a = writeFloat("a.pb", {2, 3}, a_);
  std::string b = writeFloat("b.pb", {3, 2}, b_);
  std::string out = path("out");
  RunResult r = run("--output-dir " + q(out) + " " + q(a) + " " + q(b));
  expectOneErrorLine(r, "input 'b': expected float32[2,3], got float32[3,2]");
  EXPECT_NE(r.err.find(b), std::string::npos) << r.err;
  EXPECT_EQ(0u, countFiles(out));
  // Also into an existing directory: nothing new appears.
  fs::create_directory(out);
  r = run("--output-dir " + q(out) + " " + q(a) + " " + q(b));
  EXPECT_EQ(1, r.exit_code);
  EXPECT_EQ(0u, countFiles(out));
}

TEST_F(FakeModelExe, WrongTypeFails) {
  std::vector<int64_t> v(6, 1);
  kiln_tensor t{};
  t.elem_type = KILN_INT64;
  t.rank = 2;
  t.shape[0] = 2;
  t.shape[1] = 3;
  t.data = v.data();
  t.byte_size = 48;
  std::string b = path("b.pb");
  ASSERT_EQ(KILN_OK, kiln_tensor_write_pb(b.c_str(), &t, "b", nullptr, 0));
  std::string a = writeFloat("a.pb", {2, 3}, a_);
  RunResult r = run("--output-dir " + q(path("out")) + " " + q(a) + " " + q(b));
  expectOneErrorLine(r, "input 'b': expected float32[2,3], got int64[2,3]");
  EXPECT_FALSE(fs::exists(path("out/output_0.pb")));
}

TEST_F(FakeModelExe, WrongInputCountAndMissingFile) {
  std::string a = writeFloat("a.pb", {2, 3}, a_);
  RunResult r = run(q(a));
  expectOneErrorLine(r, "takes 2 inputs (a, b), got 1");
  r = run(q(a) + " " + q(a) + " " + q(a));
  expectOneErrorLine(r, "got 3");
  r = run(q(a) + " " + q(path("missing.npy")));
  expectOneErrorLine(r, path("missing.npy"));
  std::string junk = path("junk.pb");
  writeBytes(junk, Bytes{0xff, 0xff, 0xff});
  r = run("--output-dir " + q(path("out")) + " " + q(a) + " " + q(junk));
  expectOneErrorLine(r, junk);
  EXPECT_EQ(0u, countFiles(path("out")));
}

TEST_F(FakeModelExe, BadOptions) {
  std::string a = writeFloat("a.pb", {2, 3}, a_);
  std::string b = writeFloat("b.pb", {2, 3}, b_);
  std::string ins = " " + q(a) + " " + q(b);
  expectOneErrorLine(run("--frobnicate" + ins), "unknown option '--frobnicate'");
  expectOneErrorLine(run("--threads 0" + ins), "--threads");
  expectOneErrorLine(run("--threads=-2" + ins), "--threads");
  expectOneErrorLine(run("--bench abc" + ins), "--bench");
  expectOneErrorLine(run("--bench 0" + ins), "--bench");
  expectOneErrorLine(run("--output-format=txt" + ins), "--output-format");
  expectOneErrorLine(run(ins + " --output-dir"), "needs a value");
  EXPECT_FALSE(fs::exists("output_0.pb"));
}

TEST_F(FakeModelExe, BenchPrintsLatencyAndWritesOutputs) {
  std::string a = writeFloat("a.pb", {2, 3}, a_);
  std::string b = writeFloat("b.pb", {2, 3}, b_);
  std::string out = path("bench");
  RunResult r = run("--bench 3 --threads 1 --output-dir=" + q(out) + " " +
                    q(a) + " " + q(b));
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_TRUE(std::regex_match(
      r.out, std::regex("latency_ms median=[0-9]+\\.[0-9]{3} min=[0-9]+\\.[0-9]{3} runs=3\n")))
      << r.out;
  Tensor y;
  std::string msg;
  ASSERT_EQ(KILN_OK, readFile(out + "/output_0.pb", y, &msg)) << msg;
  EXPECT_EQ(y_, values<float>(y.t));
}

TEST_F(FakeModelExe, InfoAndHelp) {
  RunResult r = run("--info");
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_NE(r.out.find("model: fake"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("a float32[2,3]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("b float32[2,3]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("y float32[2,3]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("s float64[]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("arena: 64 bytes (align 64)"), std::string::npos) << r.out;
  r = run("--help");
  EXPECT_EQ(0, r.exit_code);
  EXPECT_NE(r.out.find("usage:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--bench N"), std::string::npos) << r.out;
}

TEST_F(FakeModelExe, RunFailureIsReported) {
  std::vector<float> bad = a_;
  bad[0] = -12345.0f; // the fake model's failure hook
  std::string a = writeFloat("a.pb", {2, 3}, bad);
  std::string b = writeFloat("b.pb", {2, 3}, b_);
  std::string out = path("out");
  RunResult r = run("--output-dir " + q(out) + " " + q(a) + " " + q(b));
  expectOneErrorLine(r, kiln_status_string(KILN_ERROR_UNSUPPORTED));
  EXPECT_EQ(0u, countFiles(out));
}

//===----------------------------------------------------------------------===//
// The thread pool (kiln_parallel_for)
//===----------------------------------------------------------------------===//

/// Counts how often each index of [0, n) was visited, and by how many
/// distinct threads the loop ran.
struct Visits {
  explicit Visits(int64_t n) : count(n) {}
  std::vector<std::atomic<int>> count;
  std::atomic<int> calls{0};
  static void task(void *ctx, int64_t begin, int64_t end) {
    auto *v = static_cast<Visits *>(ctx);
    ASSERT_LE(0, begin);
    ASSERT_LT(begin, end);
    ASSERT_LE(end, static_cast<int64_t>(v->count.size()));
    for (int64_t i = begin; i < end; ++i)
      v->count[i].fetch_add(1);
    v->calls.fetch_add(1);
  }
  bool eachOnce() const {
    return std::all_of(count.begin(), count.end(),
                       [](const std::atomic<int> &c) { return c.load() == 1; });
  }
};

TEST(ThreadPool, EveryIndexExactlyOnce) {
  for (int threads : {1, 2, 4, 3, 1}) {
    EXPECT_EQ(threads, kiln_set_num_threads(threads));
    EXPECT_EQ(threads, kiln_get_num_threads());
    for (int64_t n : {1, 2, 7, 64, 1000, 100003}) {
      Visits v(n);
      kiln_parallel_for(&Visits::task, &v, n);
      EXPECT_TRUE(v.eachOnce()) << threads << " threads, n = " << n;
    }
  }
  Visits none(1);
  kiln_parallel_for(&Visits::task, &none, 0);
  EXPECT_EQ(0, none.calls.load());
}

TEST(ThreadPool, CountIsClamped) {
  EXPECT_EQ(1, kiln_set_num_threads(0));
  EXPECT_EQ(1, kiln_set_num_threads(-5));
  EXPECT_EQ(KILN_MAX_THREADS, kiln_set_num_threads(KILN_MAX_THREADS + 100));
  EXPECT_EQ(1, kiln_set_num_threads(1));
}

TEST(ThreadPool, ManyLoopsInARow) {
  kiln_set_num_threads(2);
  for (int rep = 0; rep < 2000; ++rep) {
    Visits v(37);
    kiln_parallel_for(&Visits::task, &v, 37);
    ASSERT_TRUE(v.eachOnce()) << "loop " << rep;
  }
  kiln_set_num_threads(1);
}

TEST(ThreadPool, EachThreadStartsOnItsOwnPart) {
  // With 2 threads the caller owns the first half of the chunks and the
  // worker the second: consecutive loops give a thread the same part of the
  // data. (Stealing can change who runs a chunk on a busy machine; most
  // loops must still start where they should.)
  kiln_set_num_threads(2);
  struct Starts {
    std::thread::id caller, atZero, atHalf;
    static void task(void *ctx, int64_t begin, int64_t) {
      auto *s = static_cast<Starts *>(ctx);
      if (begin == 0)
        s->atZero = std::this_thread::get_id();
      if (begin == 32)
        s->atHalf = std::this_thread::get_id();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  };
  int own = 0;
  for (int rep = 0; rep < 20; ++rep) {
    Starts s;
    s.caller = std::this_thread::get_id();
    kiln_parallel_for(&Starts::task, &s, 64); // 16 chunks of 4
    if (s.atZero == s.caller && s.atHalf != s.caller &&
        s.atHalf != std::thread::id())
      ++own;
  }
  EXPECT_GE(own, 15);
  kiln_set_num_threads(1);
}

// Run by LoopProfile in a process of its own, with KILN_PROFILE_LOOPS set
// (the runtime reads it once per process).
TEST(ThreadPool, DISABLED_LoopProfileChild) {
  kiln_set_num_threads(2);
  for (int rep = 0; rep < 3; ++rep) {
    Visits v(100);
    kiln_parallel_for(&Visits::task, &v, 100);
  }
  Visits w(7);
  kiln_parallel_for(
      [](void *ctx, int64_t b, int64_t e) { Visits::task(ctx, b, e); }, &w, 7);
  kiln_set_num_threads(1);
}

TEST(ThreadPool, LoopProfile) {
  // KILN_PROFILE_LOOPS sums each loop's calls and time per task and writes
  // them at exit.
  std::string path = (std::filesystem::temp_directory_path() /
                      ("kiln-loops-" + std::to_string(getpid()) + ".txt"))
                         .string();
  std::remove(path.c_str());
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string cmd = "KILN_PROFILE_LOOPS='" + path + "' '" + self +
                    "' --gtest_also_run_disabled_tests "
                    "--gtest_filter=ThreadPool.DISABLED_LoopProfileChild "
                    ">/dev/null 2>&1";
  ASSERT_EQ(0, std::system(cmd.c_str()));
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(0u, header.rfind("# threads 2", 0)) << header;
  std::vector<std::vector<long long>> rows;
  long long off, calls, n, total, wait;
  while (in >> off >> calls >> n >> total >> wait)
    rows.push_back({calls, n, total, wait});
  ASSERT_EQ(2u, rows.size());
  EXPECT_EQ((std::vector<long long>{3, 100}),
            (std::vector<long long>{rows[0][0], rows[0][1]}));
  EXPECT_EQ((std::vector<long long>{1, 7}),
            (std::vector<long long>{rows[1][0], rows[1][1]}));
  for (auto &r : rows) {
    EXPECT_GT(r[2], 0);
    EXPECT_LE(r[3], r[2]);
  }
  std::remove(path.c_str());
}

TEST(ThreadPool, ConcurrentCallersBothFinish) {
  // Two application threads share the pool: one gets it, the other runs its
  // loop on its own thread; both loops are complete.
  kiln_set_num_threads(2);
  std::vector<std::thread> callers;
  std::atomic<int> good{0};
  for (int t = 0; t < 2; ++t)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 200; ++rep) {
        Visits v(513);
        kiln_parallel_for(&Visits::task, &v, 513);
        if (v.eachOnce())
          good.fetch_add(1);
      }
    });
  for (std::thread &c : callers)
    c.join();
  EXPECT_EQ(400, good.load());
  kiln_set_num_threads(1);
}

TEST(ThreadPool, NestedCallRunsInline) {
  kiln_set_num_threads(2);
  struct Outer {
    std::atomic<int> inner{0};
    static void task(void *ctx, int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        Visits v(10);
        kiln_parallel_for(&Visits::task, &v, 10);
        if (v.eachOnce())
          static_cast<Outer *>(ctx)->inner.fetch_add(1);
      }
    }
  } outer;
  kiln_parallel_for(&Outer::task, &outer, 8);
  EXPECT_EQ(8, outer.inner.load());
  kiln_set_num_threads(1);
}

} // namespace
