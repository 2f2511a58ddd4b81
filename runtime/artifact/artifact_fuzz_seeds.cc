// Writes the artifact fuzzer's seed corpus into the directory given as the
// only argument: the writer's output for the test sample, an empty artifact
// and one without executables (whose FlatBuffer is padded to 64).
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "runtime/artifact/artifact_writer.h"
#include "runtime/artifact/sample_artifact.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  using kiln::artifact::ArtifactContents;
  using kiln::artifact::WriteArtifact;

  std::unique_ptr<kiln::artifact::testing::SampleArtifact> sample =
      kiln::artifact::testing::MakeSampleArtifact();
  ArtifactContents no_code = sample->contents;
  no_code.executables.clear();
  no_code.entries.clear();

  const std::pair<std::string, const ArtifactContents*> seeds[] = {
      {"sample.kiln", &sample->contents},
      {"empty.kiln", nullptr},
      {"no_code.kiln", &no_code},
  };
  for (const auto& [name, contents] : seeds) {
    absl::Status status = WriteArtifact(
        dir + "/" + name, contents ? *contents : ArtifactContents());
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
