//===- CompilerTest.cpp - unit tests of the compiler's utilities ----------===//
#include "compiler/driver/Codegen.h"
#include "compiler/driver/Driver.h"
#include "compiler/import/Importer.h"
#include "targets/Target.h"
#include "dialects/onnx/ShapeHelpers.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>
#include <fstream>

using namespace kiln;
using kiln::onnx::Shape;

namespace {
constexpr int64_t kDyn = mlir::ShapedType::kDynamic;

TEST(Broadcast, NumpyRules) {
  EXPECT_EQ(*kiln::onnx::broadcastShapes({2, 1, 4}, {3, 1}), (Shape{2, 3, 4}));
  EXPECT_EQ(*kiln::onnx::broadcastShapes({}, {5}), (Shape{5}));
  EXPECT_EQ(*kiln::onnx::broadcastShapes({kDyn, 3}, {4, 3}), (Shape{4, 3}));
  EXPECT_FALSE(kiln::onnx::broadcastShapes({2, 3}, {4}).has_value());
}

TEST(Axis, Normalize) {
  EXPECT_EQ(*kiln::onnx::normalizeAxis(-1, 4), 3);
  EXPECT_EQ(*kiln::onnx::normalizeAxis(0, 1), 0);
  EXPECT_FALSE(kiln::onnx::normalizeAxis(4, 4).has_value());
  EXPECT_FALSE(kiln::onnx::normalizeAxis(-5, 4).has_value());
}

TEST(Window, ExplicitPadsAndStrides) {
  kiln::onnx::WindowGeometry g;
  int64_t pads[] = {1, 1, 1, 1}, strides[] = {2, 2};
  ASSERT_FALSE(kiln::onnx::computeWindowGeometry({224, 224}, {7, 7}, "NOTSET",
                                           llvm::ArrayRef<int64_t>(pads),
                                           llvm::ArrayRef<int64_t>(strides),
                                           std::nullopt, false, g));
  EXPECT_EQ(g.outSpatial, (Shape{110, 110}));
}

TEST(Window, SameUpperPutsTheOddPadHigh) {
  kiln::onnx::WindowGeometry g;
  int64_t strides[] = {2};
  ASSERT_FALSE(kiln::onnx::computeWindowGeometry({10}, {4}, "SAME_UPPER",
                                           std::nullopt,
                                           llvm::ArrayRef<int64_t>(strides),
                                           std::nullopt, false, g));
  EXPECT_EQ(g.outSpatial, (Shape{5}));
  EXPECT_EQ(g.padBegin, (Shape{1}));
  EXPECT_EQ(g.padEnd, (Shape{1}));
  ASSERT_FALSE(kiln::onnx::computeWindowGeometry({5}, {2}, "SAME_LOWER",
                                           std::nullopt, std::nullopt,
                                           std::nullopt, false, g));
  EXPECT_EQ(g.padBegin, (Shape{1}));
  EXPECT_EQ(g.padEnd, (Shape{0}));
}

TEST(Window, CeilModeDropsAWindowStartingInThePadding) {
  kiln::onnx::WindowGeometry g;
  int64_t strides[] = {2};
  ASSERT_FALSE(kiln::onnx::computeWindowGeometry({4}, {3}, "NOTSET", std::nullopt,
                                           llvm::ArrayRef<int64_t>(strides),
                                           std::nullopt, true, g));
  EXPECT_EQ(g.outSpatial, (Shape{2}));
}

TEST(Window, Errors) {
  kiln::onnx::WindowGeometry g;
  EXPECT_TRUE(kiln::onnx::computeWindowGeometry({2}, {5}, "NOTSET", std::nullopt,
                                          std::nullopt, std::nullopt, false, g)
                  .has_value());
  EXPECT_TRUE(kiln::onnx::computeWindowGeometry({8, 8}, {3}, "NOTSET", std::nullopt,
                                          std::nullopt, std::nullopt, false, g)
                  .has_value());
  EXPECT_TRUE(kiln::onnx::computeWindowGeometry({8}, {3}, "BOGUS", std::nullopt,
                                          std::nullopt, std::nullopt, false, g)
                  .has_value());
}

TEST(Slice, ClampsLikeNumpy) {
  llvm::SmallVector<kiln::onnx::SliceAxis> out;
  ASSERT_FALSE(kiln::onnx::computeSlice({10}, {-3}, {1000}, {0}, {1}, out));
  EXPECT_EQ(out[0].start, 7);
  EXPECT_EQ(out[0].size, 3);
  ASSERT_FALSE(kiln::onnx::computeSlice({10}, {8}, {1}, {0}, {-3}, out));
  EXPECT_EQ(out[0].start, 8);
  EXPECT_EQ(out[0].size, 3); // 8, 5, 2
  ASSERT_FALSE(kiln::onnx::computeSlice({10}, {-1}, {INT64_MIN}, {0}, {-1}, out));
  EXPECT_EQ(out[0].size, 10);
  EXPECT_TRUE(kiln::onnx::computeSlice({10}, {0}, {5}, {0}, {0}, out).has_value());
}

TEST(Driver, EmitKindFromExtension) {
  EXPECT_EQ(emitKindForPath("m.o"), EmitKind::Object);
  EXPECT_EQ(emitKindForPath("libm.a"), EmitKind::StaticLib);
  EXPECT_EQ(emitKindForPath("m.so"), EmitKind::SharedLib);
  EXPECT_EQ(emitKindForPath("out/model"), EmitKind::Executable);
}

TEST(Driver, SymbolPrefixIsACIdentifier) {
  EXPECT_EQ(symbolPrefixFor("dir/resnet18.onnx"), "resnet18");
  EXPECT_EQ(symbolPrefixFor("my-model.v2.onnx"), "my_model_v2");
  EXPECT_EQ(symbolPrefixFor("2net.onnx"), "m_2net");
}

TEST(Header, DeclaresTheABI) {
  ModelSignature sig;
  sig.prefix = "net";
  sig.inputs.push_back({"image", 1, {1, 3, 8, 8}, 768});
  sig.outputs.push_back({"prob", 1, {1, 10}, 40});
  sig.arenaSize = 4096;
  std::string h = generateHeader(sig);
  EXPECT_NE(h.find("#define NET_ARENA_SIZE 4096u"), std::string::npos);
  EXPECT_NE(h.find("#define NET_INPUT_0_NAME \"image\""), std::string::npos);
  EXPECT_NE(h.find("int32_t net_run(const void *const *inputs, void *const "
                   "*outputs, void *arena);"),
            std::string::npos);
  EXPECT_NE(h.find("extern const kiln_model_info net_info;"), std::string::npos);
  EXPECT_NE(h.find("'image' float32[1,3,8,8]"), std::string::npos);
}

class ExternalData : public ::testing::Test {
protected:
  void SetUp() override {
    llvm::SmallString<128> base;
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("kiln-ext", base));
    root = std::string(base);
    dir = root + "/model";
    ASSERT_FALSE(llvm::sys::fs::create_directory(dir));
    std::ofstream(dir + "/w.bin") << "weights";
    std::ofstream(root + "/secret.bin") << "outside";
    llvm::sys::fs::create_link(root + "/secret.bin", dir + "/link.bin");
  }
  void TearDown() override { llvm::sys::fs::remove_directories(root); }
  std::string root, dir;
};

TEST_F(ExternalData, InsideTheFolderResolves) {
  bool ok = false;
  std::string p = resolveExternalDataPath(dir, "w.bin", ok);
  EXPECT_TRUE(ok) << p;
}

TEST_F(ExternalData, EscapesAreRejected) {
  bool ok = true;
  EXPECT_NE(resolveExternalDataPath(dir, "../secret.bin", ok).find("leaves"),
            std::string::npos);
  EXPECT_FALSE(ok);
  EXPECT_NE(resolveExternalDataPath(dir, root + "/secret.bin", ok).find("absolute"),
            std::string::npos);
  EXPECT_FALSE(ok);
  EXPECT_NE(resolveExternalDataPath(dir, "link.bin", ok).find("outside"),
            std::string::npos);
  EXPECT_FALSE(ok);
  resolveExternalDataPath(dir, "missing.bin", ok);
  EXPECT_FALSE(ok);
}
} // namespace

namespace {

TEST(Target, EveryKnownTargetResolvesWithItsDefaultCpu) {
  for (const KnownTarget &known : knownTargets()) {
    auto t = resolveTarget(known.name, "");
    ASSERT_TRUE(static_cast<bool>(t))
        << known.name << ": " << llvm::toString(t.takeError());
    EXPECT_EQ(t->name, known.name);
    EXPECT_EQ(t->cpu, known.defaultCpu);
    // A baseline never reads the host: only the distribution's own
    // features (RV64GC for Debian's riscv64).
    EXPECT_EQ(t->features, t->name == "riscv64-linux-gnu" ? "+m,+a,+f,+d,+c" : "");
  }
}

TEST(Target, RegisterTileFollowsTheVectorUnit) {
  auto avx2 = resolveTarget("x86_64-linux-gnu", "");
  ASSERT_TRUE(static_cast<bool>(avx2));
  EXPECT_EQ(avx2->vectorBits, 256u);
  EXPECT_EQ(avx2->matmul.mr, 6);
  EXPECT_EQ(avx2->matmul.nr, 16);
  auto avx512 = resolveTarget("x86_64-linux-gnu", "x86-64-v4");
  ASSERT_TRUE(static_cast<bool>(avx512));
  EXPECT_EQ(avx512->vectorBits, 512u);
  EXPECT_EQ(avx512->vectorRegisters, 32u);
  EXPECT_EQ(avx512->matmul.nr, 32);
  auto neon = resolveTarget("aarch64-linux-gnu", "cortex-a72");
  ASSERT_TRUE(static_cast<bool>(neon));
  EXPECT_EQ(neon->vectorBits, 128u);
  EXPECT_EQ(neon->vectorRegisters, 32u);
  auto a7 = resolveTarget("armv7-linux-gnueabihf", "");
  ASSERT_TRUE(static_cast<bool>(a7));
  EXPECT_EQ(a7->pointerBits, 32u);
  EXPECT_EQ(a7->matmul.mr * a7->matmul.nr / 4 + a7->matmul.nr / 4 + 1 <= 16,
            true);
}

TEST(Target, BareMetalHasNoThreadsNoLibmNoLinker) {
  auto m4 = resolveTarget("thumbv7em-none-eabihf", "cortex-m7");
  ASSERT_TRUE(static_cast<bool>(m4));
  EXPECT_TRUE(m4->bareMetal);
  EXPECT_FALSE(m4->threads);
  EXPECT_FALSE(m4->libm);
  EXPECT_TRUE(m4->link.driver.empty());
  EXPECT_EQ(m4->vectorBits, 32u);
  EXPECT_EQ(m4->pointerBits, 32u);
  EXPECT_TRUE(isAllowedBareMetalSymbol("memcpy"));
  EXPECT_TRUE(isAllowedBareMetalSymbol("__aeabi_memclr4"));
  EXPECT_FALSE(isAllowedBareMetalSymbol("expf"));
  EXPECT_FALSE(isAllowedBareMetalSymbol("malloc"));
}

TEST(Target, CrossTargetsLinkWithTheirToolchain) {
  auto a64 = resolveTarget("aarch64-unknown-linux-gnu", "");
  ASSERT_TRUE(static_cast<bool>(a64)) << "LLVM's spelling is accepted too";
  EXPECT_EQ(a64->name, "aarch64-linux-gnu");
  if (hostTargetName() != "aarch64-linux-gnu")
    EXPECT_EQ(a64->link.driver, "aarch64-linux-gnu-gcc");
  auto a32 = resolveTarget("armv7-linux-gnueabihf", "cortex-a9");
  ASSERT_TRUE(static_cast<bool>(a32));
  if (hostTargetName() != "armv7-linux-gnueabihf")
    EXPECT_EQ(a32->link.driver, "arm-linux-gnueabihf-gcc");
}

TEST(Target, Errors) {
  auto unknown = resolveTarget("sparc-sun-solaris", "");
  ASSERT_FALSE(static_cast<bool>(unknown));
  std::string msg = llvm::toString(unknown.takeError());
  EXPECT_NE(msg.find("unknown target 'sparc-sun-solaris'"), std::string::npos);
  EXPECT_NE(msg.find("aarch64-linux-gnu"), std::string::npos) << msg;

  auto badCpu = resolveTarget("aarch64-linux-gnu", "pentium4");
  ASSERT_FALSE(static_cast<bool>(badCpu));
  msg = llvm::toString(badCpu.takeError());
  EXPECT_NE(msg.find("unknown CPU 'pentium4'"), std::string::npos) << msg;

  std::string other = hostTargetName() == "aarch64-linux-gnu"
                          ? "x86_64-linux-gnu"
                          : "aarch64-linux-gnu";
  auto native = resolveTarget(other, "native");
  ASSERT_FALSE(static_cast<bool>(native));
  msg = llvm::toString(native.takeError());
  EXPECT_NE(msg.find("--cpu=native"), std::string::npos) << msg;
}

TEST(ElementTypes, OneTableForCompilerAndRuntime) {
  EXPECT_EQ(elementBytes(KILN_FLOAT), 4u);
  EXPECT_EQ(elementBytes(KILN_BOOL), 1u);
  EXPECT_EQ(elementBytes(KILN_DOUBLE), 8u);
  EXPECT_EQ(elementBytes(KILN_STRING), 0u);
  EXPECT_STREQ(elementTypeName(KILN_INT64), "int64");
  EXPECT_STREQ(elementTypeName(12345), "unknown");
}

} // namespace
