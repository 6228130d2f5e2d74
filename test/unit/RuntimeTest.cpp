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
  kiln_tensor_info info = {"x", KILN_FLOAT, 4, shape, 1 * 3 * 224 * 224 * 4,
                           KILN_KIND_TENSOR};
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
  kiln_tensor_info scalar = {"flag", KILN_BOOL, 0, none, 1, KILN_KIND_TENSOR};
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
// Sequences and optionals (.pb): kiln_sequence_read_pb, kiln_optional_read_pb,
// kiln_sequence_write_pb, kiln_sequence_check
//===----------------------------------------------------------------------===//

struct Sequence {
  kiln_sequence s{};
  Sequence() = default;
  Sequence(const Sequence &) = delete;
  ~Sequence() { kiln_sequence_free(&s); }
};

int32_t readSeq(const std::string &path, Sequence &out, std::string *err) {
  char buf[512];
  kiln_sequence_free(&out.s);
  int32_t rc = kiln_sequence_read_pb(path.c_str(), &out.s, buf, sizeof buf);
  if (err)
    *err = rc == KILN_OK ? "" : buf;
  return rc;
}

int32_t readOpt(const std::string &path, Tensor &out, int32_t *present,
                std::string *err) {
  char buf[512];
  kiln_tensor_free(&out.t);
  int32_t rc =
      kiln_optional_read_pb(path.c_str(), &out.t, present, buf, sizeof buf);
  if (err)
    *err = rc == KILN_OK ? "" : buf;
  return rc;
}

// A sequence over caller-owned tensors (not to be freed).
kiln_sequence seqOf(std::vector<kiln_tensor> &items) {
  kiln_sequence s{};
  s.elem_type = items.empty() ? 0 : items[0].elem_type;
  s.length = static_cast<int64_t>(items.size());
  s.items = items.empty() ? nullptr : items.data();
  return s;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes b;
  for (const Bytes &p : parts)
    b.insert(b.end(), p.begin(), p.end());
  return b;
}
Bytes nameField(const std::string &n) {
  Bytes b;
  fieldBytes(b, 1, Bytes(n.begin(), n.end()));
  return b;
}
Bytes elemTypeField(uint64_t t) {
  Bytes b;
  fieldVarint(b, 2, t);
  return b;
}
Bytes lenField(unsigned field, const Bytes &payload) {
  Bytes b;
  fieldBytes(b, field, payload);
  return b;
}
// A TensorProto as kiln_tensor_write_pb writes it (no name).
Bytes tensorBytes(const std::string &dir, const kiln_tensor &t) {
  std::string p = (fs::path(dir) / "element.pb").string();
  EXPECT_EQ(KILN_OK, kiln_tensor_write_pb(p.c_str(), &t, nullptr, nullptr, 0));
  Bytes b = readBytes(p);
  fs::remove(p);
  return b;
}

class SequenceIO : public TmpDirTest {};

TEST_F(SequenceIO, RoundTripsEveryTypeAsSequenceAndOptional) {
  for (int32_t type : kAllTypes) {
    std::vector<uint8_t> s0, s1, s2;
    std::vector<kiln_tensor> items = {makeTensor(type, {2, 3}, s0),
                                      makeTensor(type, {0, 4}, s1),
                                      makeTensor(type, {}, s2)};
    kiln_sequence s = seqOf(items);
    for (int32_t optional : {0, 1}) {
      std::string p = path("seq.pb");
      char err[512] = "";
      ASSERT_EQ(KILN_OK,
                kiln_sequence_write_pb(p.c_str(), &s, "q", optional, err,
                                       sizeof err))
          << err;
      Sequence back;
      std::string msg;
      ASSERT_EQ(KILN_OK, readSeq(p, back, &msg)) << msg;
      EXPECT_EQ(0, back.s.none);
      EXPECT_EQ(type, back.s.elem_type);
      ASSERT_EQ(3, back.s.length);
      for (int i = 0; i < 3; ++i)
        expectSameTensor(items[i], back.s.items[i]);
    }
  }
}

TEST_F(SequenceIO, WritesWhatOnnxWrites) {
  std::vector<uint8_t> storage;
  std::vector<kiln_tensor> items = {makeTensor(KILN_INT64, {3}, storage)};
  kiln_sequence s = seqOf(items);
  Bytes t = tensorBytes(dir, items[0]);
  Bytes seqBody = concat({elemTypeField(1), lenField(3, t)});
  std::string p = path("s.pb");
  // SequenceProto: name, elem_type TENSOR, tensor_values as TensorProtos.
  ASSERT_EQ(KILN_OK, kiln_sequence_write_pb(p.c_str(), &s, "s", 0, nullptr, 0));
  EXPECT_EQ(concat({nameField("s"), seqBody}), readBytes(p));
  // OptionalProto: name, elem_type SEQUENCE, sequence_value without a name.
  ASSERT_EQ(KILN_OK, kiln_sequence_write_pb(p.c_str(), &s, "o", 1, nullptr, 0));
  EXPECT_EQ(concat({nameField("o"), elemTypeField(3), lenField(5, seqBody)}),
            readBytes(p));
  // No name.
  ASSERT_EQ(KILN_OK, kiln_sequence_write_pb(p.c_str(), &s, nullptr, 0, nullptr, 0));
  EXPECT_EQ(seqBody, readBytes(p));
  // Empty: as onnx.numpy_helper.from_list([]).
  kiln_sequence empty{};
  empty.elem_type = KILN_FLOAT;
  ASSERT_EQ(KILN_OK, kiln_sequence_write_pb(p.c_str(), &empty, "e", 0, nullptr, 0));
  EXPECT_EQ(concat({nameField("e"), elemTypeField(1)}), readBytes(p));
  ASSERT_EQ(KILN_OK, kiln_sequence_write_pb(p.c_str(), &empty, "e", 1, nullptr, 0));
  EXPECT_EQ(concat({nameField("e"), elemTypeField(3),
                    lenField(5, elemTypeField(1))}),
            readBytes(p));
  // None: as the backend tests' empty optionals (elem_type UNDEFINED).
  kiln_sequence none{};
  none.none = 1;
  ASSERT_EQ(KILN_OK, kiln_sequence_write_pb(p.c_str(), &none, "n", 1, nullptr, 0));
  EXPECT_EQ(concat({nameField("n"), elemTypeField(0)}), readBytes(p));
  char err[512] = "";
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT,
            kiln_sequence_write_pb(p.c_str(), &none, "n", 0, err, sizeof err));
  EXPECT_NE(std::string(err).find("only be written as an optional"),
            std::string::npos) << err;
  // Elements of different types, a bad element, NULL arguments.
  std::vector<uint8_t> s2;
  items.push_back(makeTensor(KILN_FLOAT, {2}, s2));
  s = seqOf(items);
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT,
            kiln_sequence_write_pb(p.c_str(), &s, "s", 0, err, sizeof err));
  EXPECT_NE(std::string(err).find("element 1 is float32"), std::string::npos)
      << err;
  items[1] = items[0];
  items[1].byte_size = 7;
  s = seqOf(items);
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT,
            kiln_sequence_write_pb(p.c_str(), &s, "s", 0, err, sizeof err));
  EXPECT_NE(std::string(err).find("element 1"), std::string::npos) << err;
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT,
            kiln_sequence_write_pb(p.c_str(), nullptr, "s", 0, err, sizeof err));
  EXPECT_EQ(KILN_ERROR_IO,
            kiln_sequence_write_pb(path("no/such/dir.pb").c_str(), &empty, "e",
                                   0, err, sizeof err));
  // Only s.pb: no temporary files left behind.
  EXPECT_EQ(1, std::distance(fs::directory_iterator(dir),
                             fs::directory_iterator()));
}

TEST_F(SequenceIO, TellsSequenceFromOptional) {
  std::vector<uint8_t> s0, s1;
  kiln_tensor a = makeTensor(KILN_FLOAT, {2, 2}, s0);
  kiln_tensor b = makeTensor(KILN_FLOAT, {3}, s1);
  Bytes ta = tensorBytes(dir, a), tb = tensorBytes(dir, b);
  std::string p = path("x.pb");
  Sequence s;
  std::string msg;
  struct Case {
    const char *what;
    Bytes bytes;
    int32_t none;
    int64_t length;
  } cases[] = {
      {"empty optional (elem_type UNDEFINED)",
       concat({nameField("o"), elemTypeField(0)}), 1, 0},
      {"empty optional (elem_type SEQUENCE)",
       concat({nameField("o"), elemTypeField(3)}), 1, 0},
      {"empty file", Bytes{}, 1, 0},
      {"empty SequenceProto", concat({nameField("e"), elemTypeField(1)}), 0, 0},
      {"SequenceProto", concat({nameField("s"), elemTypeField(1),
                                lenField(3, ta), lenField(3, tb)}), 0, 2},
      {"OptionalProto of a tensor (= a SequenceProto of one)",
       concat({nameField("o"), elemTypeField(1), lenField(3, tb)}), 0, 1},
      {"OptionalProto of a sequence",
       concat({nameField("o"), elemTypeField(3),
               lenField(5, concat({elemTypeField(1), lenField(3, ta),
                                   lenField(3, tb)}))}), 0, 2},
      {"OptionalProto of an empty sequence",
       concat({elemTypeField(3), lenField(5, Bytes{})}), 0, 0},
  };
  for (const Case &c : cases) {
    writeBytes(p, c.bytes);
    ASSERT_EQ(KILN_OK, readSeq(p, s, &msg)) << c.what << ": " << msg;
    EXPECT_EQ(c.none, s.s.none) << c.what;
    EXPECT_EQ(c.length, s.s.length) << c.what;
    if (c.length == 2) {
      EXPECT_EQ(KILN_FLOAT, s.s.elem_type);
      expectSameTensor(a, s.s.items[0]);
      expectSameTensor(b, s.s.items[1]);
    }
  }

  // Elements decode as the tensor reader decodes a file: typed data too.
  Bytes typed;
  fieldVarint(typed, 1, 2);
  fieldVarint(typed, 2, KILN_INT64);
  fieldBytes(typed, 7, packedVarints({-1, 5}));
  writeBytes(p, concat({elemTypeField(1), lenField(3, typed)}));
  ASSERT_EQ(KILN_OK, readSeq(p, s, &msg)) << msg;
  ASSERT_EQ(1, s.s.length);
  EXPECT_EQ((std::vector<int64_t>{-1, 5}), values<int64_t>(s.s.items[0]));
  Tensor direct;
  writeBytes(path("t.pb"), typed);
  ASSERT_EQ(KILN_OK, readFile(path("t.pb"), direct, &msg)) << msg;
  expectSameTensor(direct.t, s.s.items[0]);

  // kiln_optional_read_pb: an optional tensor, an empty one, a tensor file.
  Tensor t;
  int32_t present = -1;
  writeBytes(p, concat({nameField("o"), elemTypeField(1), lenField(3, tb)}));
  ASSERT_EQ(KILN_OK, readOpt(p, t, &present, &msg)) << msg;
  EXPECT_EQ(1, present);
  expectSameTensor(b, t.t);
  writeBytes(p, concat({nameField("o"), elemTypeField(0)}));
  ASSERT_EQ(KILN_OK, readOpt(p, t, &present, &msg)) << msg;
  EXPECT_EQ(0, present);
  EXPECT_EQ(nullptr, t.t.data);
  ASSERT_EQ(KILN_OK, kiln_tensor_write_pb(p.c_str(), &a, "a", nullptr, 0));
  ASSERT_EQ(KILN_OK, readOpt(p, t, &present, &msg)) << msg;
  EXPECT_EQ(1, present);
  expectSameTensor(a, t.t);
  ASSERT_EQ(KILN_OK, kiln_tensor_write_npy(path("a.npy").c_str(), &a, nullptr, 0));
  ASSERT_EQ(KILN_OK, readOpt(path("a.npy"), t, &present, &msg)) << msg;
  EXPECT_EQ(1, present);
  expectSameTensor(a, t.t);
  // ... but not a sequence.
  writeBytes(p, concat({elemTypeField(1), lenField(3, ta), lenField(3, tb)}));
  EXPECT_EQ(KILN_ERROR_TYPE_MISMATCH, readOpt(p, t, &present, &msg));
  EXPECT_EQ(0, present);
  EXPECT_NE(msg.find("a sequence of 2 tensors"), std::string::npos) << msg;
  writeBytes(p, concat({nameField("o"), elemTypeField(3),
                        lenField(5, concat({elemTypeField(1), lenField(3, ta)}))}));
  EXPECT_EQ(KILN_ERROR_TYPE_MISMATCH, readOpt(p, t, &present, &msg));
  EXPECT_NE(msg.find("holds a sequence, expected an optional tensor"),
            std::string::npos)
      << msg;
}

TEST_F(SequenceIO, MalformedFilesFailWithOneLine) {
  std::vector<uint8_t> s0;
  kiln_tensor a = makeTensor(KILN_FLOAT, {2, 2}, s0);
  Bytes ta = tensorBytes(dir, a);
  std::string p = path("x.pb");
  Sequence s;
  Tensor t;
  int32_t present;
  std::string msg;
  auto expectError = [&](int32_t code, const Bytes &bytes,
                         const std::string &needle) {
    writeBytes(p, bytes);
    EXPECT_EQ(code, readSeq(p, s, &msg)) << needle;
    EXPECT_EQ(0, s.s.length);
    EXPECT_EQ(nullptr, s.s.items);
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_EQ(std::string::npos, msg.find('\n')) << msg;
  };
  expectError(KILN_ERROR_FORMAT, ta,
              "not a SequenceProto or OptionalProto: field 1 has wire type 0");
  Bytes scalar;
  fieldVarint(scalar, 2, KILN_FLOAT);
  fieldBytes(scalar, 9, Bytes{0, 0, 0, 0});
  expectError(KILN_ERROR_FORMAT, scalar, "unexpected field 9");
  expectError(KILN_ERROR_FORMAT, Bytes{0x0a, 0x64, 'x', 'y'},
              "truncated or malformed");
  expectError(KILN_ERROR_FORMAT, Bytes{0x1b, 0x1c}, "field 3 has wire type 3");
  Bytes shortRaw = ta;
  shortRaw[shortRaw.size() - 17] = 15; // raw_data length 16 -> 15
  shortRaw.pop_back();
  ASSERT_EQ(0x4a, shortRaw[shortRaw.size() - 17]);
  expectError(KILN_ERROR_FORMAT,
              concat({elemTypeField(1), lenField(3, ta), lenField(3, shortRaw)}),
              "x.pb, element 1': raw_data has 15 bytes");
  std::vector<uint8_t> s1;
  Bytes ti = tensorBytes(dir, makeTensor(KILN_INT64, {1}, s1));
  expectError(KILN_ERROR_FORMAT,
              concat({elemTypeField(1), lenField(3, ta), lenField(3, ti)}),
              "element 1 is int64, element 0 is float32");
  Bytes rank9;
  for (int i = 0; i < 9; ++i)
    fieldVarint(rank9, 1, 1);
  fieldVarint(rank9, 2, KILN_FLOAT);
  fieldBytes(rank9, 9, Bytes(4, 0));
  // As the tensor reader reports it.
  expectError(KILN_ERROR_UNSUPPORTED, concat({elemTypeField(1), lenField(3, rank9)}),
              "rank exceeds the runtime's limit of 8");
  Bytes inner = concat({elemTypeField(1), lenField(3, ta)});
  expectError(KILN_ERROR_UNSUPPORTED,
              concat({elemTypeField(3), lenField(5, inner), lenField(5, inner)}),
              "sequences of sequences are not supported");
  expectError(KILN_ERROR_UNSUPPORTED,
              concat({elemTypeField(3),
                      lenField(5, concat({elemTypeField(3), lenField(5, inner)}))}),
              "sequences of sequences are not supported");
  expectError(KILN_ERROR_UNSUPPORTED, concat({elemTypeField(4), lenField(6, Bytes{})}),
              "of maps is not supported");
  expectError(KILN_ERROR_UNSUPPORTED, concat({elemTypeField(2), lenField(4, Bytes{})}),
              "of sparse tensors is not supported");
  expectError(KILN_ERROR_UNSUPPORTED, concat({elemTypeField(5), lenField(7, Bytes{})}),
              "of optionals is not supported");
  expectError(KILN_ERROR_FORMAT, concat({lenField(3, ta), lenField(5, inner)}),
              "values of several kinds");
  expectError(KILN_ERROR_FORMAT, elemTypeField(99), "unknown elem_type 99");
  fs::remove(p);
  EXPECT_EQ(KILN_ERROR_IO, readSeq(p, s, &msg));
  EXPECT_EQ(KILN_ERROR_IO, readOpt(p, t, &present, &msg));

  // Every prefix and every single-byte corruption of a valid file: an
  // error or a (shorter) valid message, never a crash or a leak.
  Bytes good = concat({nameField("opt"), elemTypeField(3),
                       lenField(5, concat({elemTypeField(1), lenField(3, ta),
                                           lenField(3, ta)}))});
  for (size_t n = 0; n <= good.size(); ++n) {
    writeBytes(p, Bytes(good.begin(), good.begin() + n));
    int32_t rc = readSeq(p, s, &msg);
    EXPECT_TRUE(rc == KILN_OK || rc == KILN_ERROR_FORMAT) << n << ": " << msg;
    rc = readOpt(p, t, &present, &msg);
    EXPECT_TRUE(rc == KILN_OK || rc == KILN_ERROR_FORMAT ||
                rc == KILN_ERROR_TYPE_MISMATCH || rc == KILN_ERROR_UNSUPPORTED)
        << n << ": " << msg;
  }
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t v : {0x00, 0x7f, 0x80, 0xff}) {
      Bytes bad = good;
      bad[i] = v;
      writeBytes(p, bad);
      readSeq(p, s, &msg);
      readOpt(p, t, &present, &msg);
    }
  }
}

TEST_F(SequenceIO, BackendTestData) {
  const fs::path root = "/usr/share/libonnx-testdata/data/node";
  if (!fs::exists(root / "test_identity_sequence"))
    GTEST_SKIP() << "no ONNX backend test data in " << root;
  // Read and written back under the same name: the very same bytes.
  struct File {
    const char *test, *file, *name;
    int32_t optional, none;
    int64_t length;
  } files[] = {
      {"test_identity_sequence", "input_0.pb", "x", 0, 0, 2},
      {"test_identity_sequence", "output_0.pb", "y", 0, 0, 2},
      {"test_identity_opt", "input_0.pb", "opt_in", 1, 0, 1},
      {"test_identity_opt", "output_0.pb", "opt_out", 1, 0, 1},
      {"test_sequence_insert_at_back", "input_0.pb", "sequence", 0, 0, 3},
      {"test_sequence_insert_at_back", "output_0.pb", "output_sequence", 0, 0, 4},
      {"test_optional_get_element_sequence", "input_0.pb", "optional_input", 1, 0, 1},
      {"test_optional_get_element_sequence", "output_0.pb", "output", 0, 0, 1},
      {"test_optional_has_element_empty", "input_0.pb", "optional_input", 1, 1, 0},
      {"test_if_opt", "output_0.pb", "sequence", 1, 0, 1},
      {"test_loop16_seq_none", "input_2.pb", "opt_seq", 1, 0, 1},
      {"test_loop16_seq_none", "output_0.pb", "seq_res", 0, 0, 6},
  };
  for (const File &f : files) {
    std::string in = (root / f.test / "test_data_set_0" / f.file).string();
    Sequence s;
    std::string msg;
    ASSERT_EQ(KILN_OK, readSeq(in, s, &msg)) << msg;
    EXPECT_EQ(f.none, s.s.none) << in;
    EXPECT_EQ(f.length, s.s.length) << in;
    std::string out = path("back.pb");
    char err[512] = "";
    ASSERT_EQ(KILN_OK, kiln_sequence_write_pb(out.c_str(), &s.s, f.name,
                                              f.optional, err, sizeof err))
        << err;
    EXPECT_EQ(readBytes(in), readBytes(out)) << in;
  }
  // An optional tensor, and one holding nothing.
  Tensor t, want;
  int32_t present = -1;
  std::string msg;
  fs::path get = root / "test_optional_get_element" / "test_data_set_0";
  ASSERT_EQ(KILN_OK, readOpt((get / "input_0.pb").string(), t, &present, &msg)) << msg;
  EXPECT_EQ(1, present);
  ASSERT_EQ(KILN_OK, readFile((get / "output_0.pb").string(), want, &msg)) << msg;
  expectSameTensor(want.t, t.t);
  ASSERT_EQ(KILN_OK,
            readOpt((root / "test_optional_has_element_empty" / "test_data_set_0" /
                     "input_0.pb").string(),
                    t, &present, &msg))
      << msg;
  EXPECT_EQ(0, present);
}

TEST(SequenceCheck, Messages) {
  static const int64_t anyx3[2] = {-1, 3};
  kiln_tensor_info info = {"xs", KILN_FLOAT, 2, anyx3, 0, KILN_KIND_SEQUENCE};
  std::vector<uint8_t> s0, s1;
  std::vector<kiln_tensor> items = {makeTensor(KILN_FLOAT, {2, 3}, s0),
                                    makeTensor(KILN_FLOAT, {5, 3}, s1)};
  kiln_sequence s = seqOf(items);
  char err[256] = "";
  EXPECT_EQ(KILN_OK, kiln_sequence_check(&s, &info, err, sizeof err)) << err;
  kiln_sequence empty{};
  EXPECT_EQ(KILN_OK, kiln_sequence_check(&empty, &info, err, sizeof err)) << err;

  items[1] = makeTensor(KILN_INT64, {2, 3}, s1);
  EXPECT_EQ(KILN_ERROR_TYPE_MISMATCH, kiln_sequence_check(&s, &info, err, sizeof err));
  EXPECT_STREQ("input 'xs': element 1: expected float32[?,3], got int64[2,3]", err);
  items[1] = makeTensor(KILN_FLOAT, {2, 4}, s1);
  EXPECT_EQ(KILN_ERROR_SHAPE_MISMATCH, kiln_sequence_check(&s, &info, err, sizeof err));
  EXPECT_STREQ("input 'xs': element 1: expected float32[?,3], got float32[2,4]", err);
  items[1] = makeTensor(KILN_FLOAT, {3}, s1);
  EXPECT_EQ(KILN_ERROR_SHAPE_MISMATCH, kiln_sequence_check(&s, &info, err, sizeof err));
  EXPECT_STREQ("input 'xs': element 1: expected float32[?,3], got float32[3]", err);

  kiln_tensor_info any = {"ys", KILN_FLOAT, -1, nullptr, 0, KILN_KIND_SEQUENCE};
  EXPECT_EQ(KILN_OK, kiln_sequence_check(&s, &any, err, sizeof err)) << err;
  items[0] = makeTensor(KILN_INT64, {2}, s0);
  EXPECT_EQ(KILN_ERROR_TYPE_MISMATCH, kiln_sequence_check(&s, &any, err, sizeof err));
  EXPECT_STREQ("input 'ys': element 0: expected float32, got int64[2]", err);

  kiln_sequence none{};
  none.none = 1;
  EXPECT_EQ(KILN_ERROR_TYPE_MISMATCH, kiln_sequence_check(&none, &info, err, sizeof err));
  EXPECT_STREQ("input 'xs': expected a sequence, got an optional with no value", err);
  info.kind = KILN_KIND_OPTIONAL_SEQUENCE;
  EXPECT_EQ(KILN_OK, kiln_sequence_check(&none, &info, err, sizeof err)) << err;
  info.kind = KILN_KIND_TENSOR;
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT, kiln_sequence_check(&none, &info, err, sizeof err));
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT, kiln_sequence_check(nullptr, &info, err, sizeof err));
  EXPECT_EQ(KILN_ERROR_INVALID_ARGUMENT, kiln_sequence_check(&none, nullptr, nullptr, 0));
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
  virtual const char *exe() const { return KILN_FAKE_MODEL_EXE; }

  RunResult run(const std::string &args) {
    std::string out = path("stdout.txt"), err = path("stderr.txt");
    std::string cmd = std::string("'") + exe() + "' " + args +
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

// main() with sequence and optional inputs and outputs (fake_seq_model.c).
class FakeSeqModelExe : public FakeModelExe {
protected:
  const char *exe() const override { return KILN_FAKE_SEQ_MODEL_EXE; }

  // Writes a sequence (or, with `optional`, an optional sequence; `none`: an
  // empty optional) of float32 tensors of `shapes`, filled with 1, 2, ...
  std::string writeSeq(const std::string &name,
                       std::vector<std::vector<int64_t>> shapes,
                       int32_t optional = 0, int32_t none = 0,
                       int32_t type = KILN_FLOAT) {
    std::vector<std::vector<uint8_t>> storage(shapes.size());
    std::vector<kiln_tensor> items;
    for (size_t i = 0; i < shapes.size(); ++i) {
      items.push_back(makeTensor(type, shapes[i], storage[i]));
      if (type == KILN_FLOAT)
        for (size_t k = 0; k < storage[i].size() / 4; ++k)
          reinterpret_cast<float *>(storage[i].data())[k] = float(k + 1);
    }
    kiln_sequence s = seqOf(items);
    s.none = none;
    std::string p = path(name);
    char err[512] = "";
    EXPECT_EQ(KILN_OK,
              kiln_sequence_write_pb(p.c_str(), &s, "in", optional, err, sizeof err))
        << err;
    return p;
  }
  std::string writeNoneOpt(const std::string &name) {
    std::string p = path(name);
    writeBytes(p, concat({nameField("w"), elemTypeField(0)}));
    return p;
  }
};

TEST_F(FakeSeqModelExe, SequencesAndOptionalsInAndOut) {
  std::string xs = writeSeq("xs.pb", {{2, 3}, {1, 3}});
  std::string w = path("w.pb");
  writeBytes(w, concat({nameField("w"), elemTypeField(1),
                        lenField(3, tensorBytes(dir, [&] {
                                   static std::vector<float> v = {10, 20, 30};
                                   kiln_tensor t{};
                                   t.elem_type = KILN_FLOAT;
                                   t.rank = 1;
                                   t.shape[0] = 3;
                                   t.data = v.data();
                                   t.byte_size = 12;
                                   return t;
                                 }()))}));
  std::string os = writeSeq("os.pb", {{2}}, 1, 0, KILN_INT64);
  std::string out = path("out");
  RunResult r = run("--output-dir " + q(out) + " " + q(xs) + " " + q(w) + " " + q(os));
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("", r.err);

  Sequence ys, os2;
  std::string msg;
  ASSERT_EQ(KILN_OK, readSeq(out + "/output_0.pb", ys, &msg)) << msg;
  EXPECT_EQ(0, ys.s.none);
  ASSERT_EQ(3, ys.s.length);
  EXPECT_EQ((std::vector<float>{11, 22, 33, 14, 25, 36}), values<float>(ys.s.items[0]));
  EXPECT_EQ((std::vector<float>{11, 22, 33}), values<float>(ys.s.items[1]));
  EXPECT_EQ((std::vector<float>{1, 1, 1}), values<float>(ys.s.items[2]));
  Bytes raw = readBytes(out + "/output_0.pb");
  EXPECT_EQ(nameField("ys"), Bytes(raw.begin(), raw.begin() + 4));
  EXPECT_EQ(0x10, raw[4]); // elem_type TENSOR: a SequenceProto
  EXPECT_EQ(0x01, raw[5]);

  ASSERT_EQ(KILN_OK, readSeq(out + "/output_1.pb", os2, &msg)) << msg;
  EXPECT_EQ(0, os2.s.none);
  ASSERT_EQ(1, os2.s.length);
  EXPECT_EQ(KILN_INT64, os2.s.elem_type);
  raw = readBytes(out + "/output_1.pb");
  EXPECT_EQ(concat({nameField("os2"), elemTypeField(3)}),
            Bytes(raw.begin(), raw.begin() + 7)); // an OptionalProto
  Tensor n;
  ASSERT_EQ(KILN_OK, readFile(out + "/output_2.pb", n, &msg)) << msg;
  EXPECT_EQ((std::vector<int64_t>{2}), values<int64_t>(n.t));
  EXPECT_EQ(3u, countFiles(out));
}

TEST_F(FakeSeqModelExe, AbsentOptionalsAndEmptySequences) {
  std::string xs = writeSeq("xs.pb", {}); // empty
  std::string w = writeNoneOpt("w.pb");
  std::string os = writeSeq("os.pb", {}, 1, 1); // none
  std::string out = path("out");
  RunResult r = run("--output-dir " + q(out) + " " + q(xs) + " " + q(w) + " " + q(os));
  ASSERT_EQ(0, r.exit_code) << r.err;
  Sequence ys;
  std::string msg;
  ASSERT_EQ(KILN_OK, readSeq(out + "/output_0.pb", ys, &msg)) << msg;
  EXPECT_EQ(1, ys.s.length); // only the run counter
  EXPECT_EQ(concat({nameField("os2"), elemTypeField(0)}),
            readBytes(out + "/output_1.pb"));

  // An optional tensor may be a plain tensor file; xs unchanged without w.
  xs = writeSeq("xs.pb", {{1, 3}});
  std::string w2 = writeFloat("w2.pb", {3}, {1, 1, 1});
  r = run("--output-dir " + q(out) + " " + q(xs) + " " + q(w2) + " " + q(os));
  ASSERT_EQ(0, r.exit_code) << r.err;
  ASSERT_EQ(KILN_OK, readSeq(out + "/output_0.pb", ys, &msg)) << msg;
  ASSERT_EQ(2, ys.s.length);
  EXPECT_EQ((std::vector<float>{2, 3, 4}), values<float>(ys.s.items[0]));
  r = run("--output-dir " + q(out) + " " + q(xs) + " " + q(w) + " " + q(os));
  ASSERT_EQ(0, r.exit_code) << r.err;
  ASSERT_EQ(KILN_OK, readSeq(out + "/output_0.pb", ys, &msg)) << msg;
  EXPECT_EQ((std::vector<float>{1, 2, 3}), values<float>(ys.s.items[0]));
}

TEST_F(FakeSeqModelExe, BadInputsFailWithOneLineAndNoOutputs) {
  std::string xs = writeSeq("xs.pb", {{2, 3}});
  std::string w = writeNoneOpt("w.pb");
  std::string os = writeSeq("os.pb", {}, 1, 1);
  std::string out = path("out");
  auto runWith = [&](const std::string &a, const std::string &b,
                     const std::string &c, const std::string &extra = "") {
    return run(extra + "--output-dir " + q(out) + " " + q(a) + " " + q(b) + " " + q(c));
  };
  std::string noneXs = writeSeq("none.pb", {}, 1, 1);
  expectOneErrorLine(runWith(noneXs, w, os),
                     "input 'xs': expected a sequence, got an optional with no value");
  std::string badShape = writeSeq("bad.pb", {{2, 3}, {2, 4}});
  RunResult r = runWith(badShape, w, os);
  expectOneErrorLine(r, "input 'xs': element 1: expected float32[?,3], got float32[2,4]");
  EXPECT_NE(r.err.find(badShape), std::string::npos) << r.err;
  std::string tensor = writeFloat("t.pb", {2, 3}, a_);
  expectOneErrorLine(runWith(tensor, w, os),
                     "input 'xs': '" + tensor + "': not a SequenceProto or OptionalProto");
  expectOneErrorLine(runWith(xs, writeFloat("w4.pb", {4}, {1, 2, 3, 4}), os),
                     "input 'w': expected float32[3], got float32[4]");
  expectOneErrorLine(runWith(xs, xs, os), "input 'w': ");
  std::string floats = writeSeq("f.pb", {{1}}, 1);
  expectOneErrorLine(runWith(xs, w, floats),
                     "input 'os': element 0: expected int64, got float32[1]");
  expectOneErrorLine(runWith(xs, w, os, "--output-format npy "),
                     "output 0 ('ys') is a sequence, which --output-format npy "
                     "cannot hold (use pb)");
  std::string five = writeSeq("five.pb", {{1, 3}, {1, 3}, {1, 3}, {1, 3}, {1, 3}});
  expectOneErrorLine(runWith(five, w, os), kiln_status_string(KILN_ERROR_OUT_OF_RANGE));
  EXPECT_EQ(0u, countFiles(out));
}

TEST_F(FakeSeqModelExe, BenchRewritesSequenceOutputs) {
  std::string xs = writeSeq("xs.pb", {{2, 3}, {1, 3}});
  std::string w = writeNoneOpt("w.pb");
  std::string os = writeSeq("os.pb", {{2}, {3}}, 1, 0, KILN_INT64);
  std::string out = path("out");
  RunResult r = run("--bench 3 --output-dir " + q(out) + " " + q(xs) + " " +
                    q(w) + " " + q(os));
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_NE(r.out.find("runs=3"), std::string::npos) << r.out;
  Sequence ys, os2;
  std::string msg;
  ASSERT_EQ(KILN_OK, readSeq(out + "/output_0.pb", ys, &msg)) << msg;
  ASSERT_EQ(3, ys.s.length);
  EXPECT_EQ((std::vector<float>{4, 4, 4}), values<float>(ys.s.items[2])); // 4th run
  ASSERT_EQ(KILN_OK, readSeq(out + "/output_1.pb", os2, &msg)) << msg;
  EXPECT_EQ(2, os2.s.length);
}

TEST_F(FakeSeqModelExe, InfoShowsKinds) {
  RunResult r = run("--info");
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_NE(r.out.find("abi_version: 6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0: xs seq(float32[?,3])\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1: w optional(float32[3])\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2: os optional(seq(int64))\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0: ys seq(float32[?,3])\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1: os2 optional(seq(int64))\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2: n int64[]\n"), std::string::npos) << r.out;
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
