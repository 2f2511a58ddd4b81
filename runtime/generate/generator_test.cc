// End to end against diffusers: the tiny model compiled by the ctest fixture
// (test/CMakeLists.txt, golden.artifact.compile) generates with the initial
// noise of test/goldens/cases/generate/*.safetensors, made by
// test/goldens/make_pipeline_goldens.py from FluxPipeline and
// FluxKontextPipeline. Final latents within 1e-3 max relative error,
// decoded images within 2/255.
#include "runtime/generate/generator.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/io/safetensors.h"

namespace kiln::generate {
namespace {

std::string GoldenPath(const std::string& name) {
  return std::string(KILN_GOLDENS_DIR) + "/cases/generate/" + name;
}


image::RgbImage ImageFrom(const io::SafetensorsFile& file,
                          const std::string& name) {
  const io::TensorView* view = file.Find(name);
  EXPECT_NE(view, nullptr) << name;
  image::RgbImage out;
  if (view == nullptr) return out;
  out.height = static_cast<int>(view->shape[0]);
  out.width = static_cast<int>(view->shape[1]);
  out.pixels.assign(view->data, view->data + view->nbytes);
  return out;
}

double MaxRelativeError(const std::vector<float>& out,
                        const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size() && i < out.size(); ++i) {
    const double diff = std::fabs(double(out[i]) - ref[i]);
    if (!(diff <= num)) num = diff;
    den = std::max(den, std::fabs(double(ref[i])));
  }
  return out.size() == ref.size() ? num / den : INFINITY;
}

class GeneratorTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    auto model = Model::Open(KILN_TINY_ARTIFACT);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = new Model(std::move(*model));
  }
  static void TearDownTestSuite() { delete model_; }

  Generator MakeGenerator() {
    auto generator = Generator::Create(model_);
    EXPECT_TRUE(generator.ok()) << generator.status();
    return std::move(*generator);
  }

  // A quick 32x32 text-to-image request of `steps` steps.
  static GenerateRequest SmallRequest(int steps) {
    GenerateRequest request;
    request.prompt = "a lighthouse at dusk";
    request.steps = steps;
    request.height = 32;
    request.width = 32;
    return request;
  }

  // The request a golden case describes, with its initial noise.
  GenerateRequest RequestFor(const io::SafetensorsFile& file) {
    const auto& meta = file.metadata();
    GenerateRequest request;
    request.prompt = meta.at("prompt");
    request.steps = std::stoi(meta.at("steps"));
    request.guidance_scale = std::stod(meta.at("guidance"));
    request.height = std::stoi(meta.at("height"));
    request.width = std::stoi(meta.at("width"));
    request.max_sequence_length = std::stoi(meta.at("max_sequence_length"));
    request.num_images = std::stoi(meta.at("num_images_per_prompt"));
    if (auto it = meta.find("negative_prompt");
        it != meta.end() && !it->second.empty()) {
      request.negative_prompt = it->second;
      request.true_cfg_scale = std::stod(meta.at("true_cfg_scale"));
    }
    request.init_noise = io::testing::ReadTensor<float>(file, "in.init_noise");
    return request;
  }

  // Runs `request` and compares with the case's latents and image(s).
  void ExpectMatches(const io::SafetensorsFile& file,
                     const GenerateRequest& request) {
    Generator generator = MakeGenerator();
    auto result = generator.Generate(request);
    ASSERT_TRUE(result.ok()) << result.status();
    const double latent_error =
        MaxRelativeError(result->latents, io::testing::ReadTensor<float>(file, "out.latents"));
    EXPECT_LE(latent_error, 1e-3);
    std::vector<uint8_t> expected = io::testing::ReadTensor<uint8_t>(file, "out.image");
    std::vector<uint8_t> got;
    for (const image::RgbImage& image : result->images)
      got.insert(got.end(), image.pixels.begin(), image.pixels.end());
    ASSERT_EQ(got.size(), expected.size());
    int worst = 0;
    for (size_t i = 0; i < got.size(); ++i)
      worst = std::max(worst, std::abs(int(got[i]) - int(expected[i])));
    EXPECT_LE(worst, 2);
    std::cout << "latents max rel err " << latent_error
              << ", image max abs diff " << worst << "/255\n";
  }

  static Model* model_;
};

Model* GeneratorTest::model_ = nullptr;

std::unique_ptr<io::SafetensorsFile> OpenCase(const std::string& name) {
  auto file = io::SafetensorsFile::Open(GoldenPath(name));
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? std::move(*file) : nullptr;
}

TEST_F(GeneratorTest, TextToImageEqualsFluxPipeline) {
  auto file = OpenCase("t2i.safetensors");
  ASSERT_NE(file, nullptr);
  ExpectMatches(*file, RequestFor(*file));
}

TEST_F(GeneratorTest, TrueCfgEqualsFluxPipeline) {
  auto file = OpenCase("t2i_cfg.safetensors");
  ASSERT_NE(file, nullptr);
  GenerateRequest request = RequestFor(*file);
  ASSERT_GT(request.true_cfg_scale, 1.0);
  ExpectMatches(*file, request);
}

TEST_F(GeneratorTest, TwoImagesEqualFluxPipelineBatch) {
  auto file = OpenCase("t2i_batch2.safetensors");
  ASSERT_NE(file, nullptr);
  GenerateRequest request = RequestFor(*file);
  ASSERT_EQ(request.num_images, 2);
  ExpectMatches(*file, request);
}

TEST_F(GeneratorTest, EditEqualsFluxKontextPipeline) {
  auto file = OpenCase("edit.safetensors");
  ASSERT_NE(file, nullptr);
  GenerateRequest request = RequestFor(*file);
  request.references.push_back(ImageFrom(*file, "in.image_u8"));
  ExpectMatches(*file, request);
}

TEST_F(GeneratorTest, CompositionOfTwoReferencesEqualsTheReference) {
  auto file = OpenCase("compose2.safetensors");
  ASSERT_NE(file, nullptr);
  GenerateRequest request = RequestFor(*file);
  request.references.push_back(ImageFrom(*file, "in.image_u8.0"));
  request.references.push_back(ImageFrom(*file, "in.image_u8.1"));
  ExpectMatches(*file, request);
}

// PSNR of the t2i golden request's image from the artifact at `path`
// against the f32 artifact's, and the latents' max relative difference.
std::pair<double, double> ImageAgainstF32(GeneratorTest& test,
                                          const char* path) {
  std::pair<double, double> failed{0, INFINITY};
  auto file = OpenCase("t2i.safetensors");
  if (file == nullptr) return failed;
  const GenerateRequest request = test.RequestFor(*file);
  auto f32 = test.MakeGenerator().Generate(request);
  EXPECT_TRUE(f32.ok()) << f32.status();
  auto model = Model::Open(path);
  EXPECT_TRUE(model.ok()) << model.status();
  if (!f32.ok() || !model.ok()) return failed;
  auto generator = Generator::Create(&*model);
  EXPECT_TRUE(generator.ok()) << generator.status();
  if (!generator.ok()) return failed;
  auto other = generator->Generate(request);
  EXPECT_TRUE(other.ok()) << other.status();
  if (!other.ok() || other->images.size() != f32->images.size()) return failed;
  double squared = 0;
  size_t count = 0;
  for (size_t i = 0; i < f32->images.size(); ++i) {
    const std::vector<uint8_t>& a = f32->images[i].pixels;
    const std::vector<uint8_t>& b = other->images[i].pixels;
    if (a.size() != b.size()) return failed;
    for (size_t j = 0; j < a.size(); ++j) {
      const double d = double(a[j]) - double(b[j]);
      squared += d * d;
    }
    count += a.size();
  }
  const double mse = squared / double(count);
  return {mse > 0 ? 10 * std::log10(255.0 * 255.0 / mse) : INFINITY,
          MaxRelativeError(other->latents, f32->latents)};
}

// The tiny model compiled with bf16 linear weights (kiln-compile
// --weights=bf16: the text encoders' and the transformer's linears; the
// VAE's convolutions stay f32) against the f32 artifact on the same request:
// image PSNR >= 40 dB (measured 57.0 dB, latents within 0.28 %; a wrong
// widening or weight layout gives noise, ~10 dB).
TEST_F(GeneratorTest, Bf16WeightsImageIsCloseToF32) {
  auto [psnr, latents] = ImageAgainstF32(*this, KILN_TINY_BF16_ARTIFACT);
  std::cout << "bf16 weights vs f32: image PSNR " << psnr
            << " dB, latents max rel err " << latents << "\n";
  EXPECT_GE(psnr, 40.0);
  EXPECT_GT(latents, 0.0);  // the bf16 artifact is not the f32 one
}

// The same with the transformer's linears in FP8 e4m3 (--weights=fp8-e4m3):
// image PSNR >= 35 dB (measured 45.5 dB, latents within 2.4 %; e4m3 keeps 3
// mantissa bits, so ~16x the bf16 error is expected).
TEST_F(GeneratorTest, Fp8WeightsImageIsCloseToF32) {
  auto [psnr, latents] = ImageAgainstF32(*this, KILN_TINY_FP8_ARTIFACT);
  std::cout << "fp8 weights vs f32: image PSNR " << psnr
            << " dB, latents max rel err " << latents << "\n";
  EXPECT_GE(psnr, 35.0);
  EXPECT_GT(latents, 0.0);
}

TEST_F(GeneratorTest, SeveralImagesDifferAndTheFirstEqualsASingleRun) {
  Generator generator = MakeGenerator();
  GenerateRequest request = SmallRequest(2);
  request.max_sequence_length = 16;
  request.seed = 7;
  auto single = generator.Generate(request);
  ASSERT_TRUE(single.ok()) << single.status();
  request.num_images = 3;
  auto three = generator.Generate(request);
  ASSERT_TRUE(three.ok()) << three.status();
  ASSERT_EQ(three->images.size(), 3u);
  EXPECT_EQ(three->images[0].pixels, single->images[0].pixels);
  EXPECT_NE(three->images[0].pixels, three->images[1].pixels);
  EXPECT_NE(three->images[1].pixels, three->images[2].pixels);
  EXPECT_NE(three->images[0].pixels, three->images[2].pixels);
}

// With no max_sequence_length, prompts take the T5 length the artifact was
// compiled for (kiln-compile --max-text-tokens, in kiln/limits.json; 512
// for the fixture): the same pixels as asking for it, not those of 16.
TEST_F(GeneratorTest, TextLengthDefaultsToTheCompiledLimit) {
  auto info = ModelInfo::FromArtifact(model_->artifact());
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->max_text_tokens, std::optional<int64_t>(512));
  Generator generator = MakeGenerator();
  GenerateRequest request = SmallRequest(1);
  auto by_default = generator.Generate(request);
  request.max_sequence_length = 512;
  auto compiled = generator.Generate(request);
  request.max_sequence_length = 16;
  auto shorter = generator.Generate(request);
  ASSERT_TRUE(by_default.ok() && compiled.ok() && shorter.ok())
      << by_default.status() << compiled.status() << shorter.status();
  EXPECT_EQ(by_default->images[0].pixels, compiled->images[0].pixels);
  EXPECT_NE(by_default->images[0].pixels, shorter->images[0].pixels);
}

TEST_F(GeneratorTest, DefaultSizeFollowsTheFirstReference) {
  Generator generator = MakeGenerator();
  GenerateRequest request;
  request.references.push_back(image::RgbImage::Black(100, 200));
  auto size = generator.OutputSize(request);
  ASSERT_TRUE(size.ok()) << size.status().message();
  // The tiny model's default area is 512 x 512 (128 latents of 4 pixels);
  // a 2:1 reference gives about 362 x 724, in multiples of 8.
  EXPECT_EQ(size->height % 8, 0);
  EXPECT_EQ(size->width % 8, 0);
  EXPECT_NEAR(double(size->width) / size->height, 2.0, 0.05);
  EXPECT_NEAR(double(size->width) * size->height, 512.0 * 512.0,
              0.03 * 512 * 512);
}

TEST_F(GeneratorTest, RejectsSizesOffThePatchOrPastTheCompiledLimit) {
  Generator generator = MakeGenerator();
  GenerateRequest request;
  request.height = 30;
  request.width = 32;
  auto size = generator.OutputSize(request);
  EXPECT_NE(size.status().message().find(
                "each side must be a positive multiple of 8 pixels"),
            std::string::npos)
      << size.status();
  request.height = 8192;
  request.width = 8192;
  size = generator.OutputSize(request);
  EXPECT_NE(size.status().message().find(
                "is larger than the 2048 pixels per side"),
            std::string::npos)
      << size.status();
}

TEST_F(GeneratorTest, RejectsMoreReferencesThanCompiled) {
  Generator generator = MakeGenerator();
  GenerateRequest request;
  request.height = 512;
  request.width = 512;
  for (int i = 0; i < 5; ++i)
    request.references.push_back(image::RgbImage::Black(64, 64));
  auto size = generator.OutputSize(request);
  EXPECT_NE(size.status().message().find(
                "5 reference images given; " KILN_TINY_ARTIFACT
                " was compiled for at most 4 (kiln-compile --max-references)"),
            std::string::npos)
      << size.status();
}

// Tests that the runtime refuses position ids whose rows disagree with the
// tokens (the kernels would index past them): the artifact's size
// equalities, checked before any kernel runs.
TEST_F(GeneratorTest, ModelRejectsPositionIdsThatDisagreeWithTheTokens) {
  auto file = io::SafetensorsFile::Open(
      std::string(KILN_GOLDENS_DIR) + "/cases/transformer/t2i_4x6.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  std::map<std::string, HostTensorView> inputs;
  for (const std::string& name : (*file)->names()) {
    if (name.rfind("in.", 0) == 0)
      inputs[name.substr(3)] = HostTensorView::Of(*(*file)->Find(name));
  }
  inputs["img_ids"].shape[0] -= 2;
  inputs["img_ids"].nbytes -= 2 * 3 * sizeof(float);
  auto outputs = model_->Run("denoise", inputs);
  EXPECT_NE(outputs.status().message().find(
                "the inputs' sizes disagree: (denoise.hidden_states[1] + "
                "denoise.encoder_hidden_states[1]) is 32 but "
                "(denoise.img_ids[0] + denoise.txt_ids[0]) is 30"),
            std::string::npos)
      << outputs.status();
}

}  // namespace
}  // namespace kiln::generate
