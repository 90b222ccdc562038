// LoRA key handling without tensors (core/pipeline/lora_keys.h): the layouts, scales from alphas and
// from PEFT's adapter config (with patterns and rsLoRA), prompt tags, and what is refused.
#include <cmath>

#include "core/common/error.h"
#include "core/pipeline/lora_keys.h"
#include "tests/support/testing.h"

using namespace respo;
using namespace respo::pipeline::lora;

RESPO_TEST(kohya_layers_with_and_without_alpha) {
  const auto plan = planKeys({"lora_unet_mid_block_attentions_0_proj_in.lora_down.weight",
                              "lora_unet_mid_block_attentions_0_proj_in.lora_up.weight",
                              "lora_unet_mid_block_attentions_0_proj_in.alpha",
                              "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight",
                              "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight"},
                             {}, "k.safetensors");
  EXPECT_EQ(plan.format, std::string("kohya"));
  REQUIRE(plan.layers.size() == 2u);
  EXPECT_EQ(plan.layers[0].module, std::string("mid_block_attentions_0_proj_in"));
  EXPECT(plan.layers[0].underscored);
  EXPECT(plan.layers[0].component == Component::Unet);
  EXPECT(plan.layers[1].component == Component::TextEncoder2);
  EXPECT(plan.layers[1].alpha.empty());
  EXPECT_EQ(layerScale(plan, plan.layers[0], 8.0, 16.0), 0.5);
  EXPECT_EQ(layerScale(plan, plan.layers[1], std::nullopt, 16.0), 1.0);
}

RESPO_TEST(peft_layers_scale_by_the_adapter_config_and_its_patterns) {
  const std::string meta = R"({"unet.r": 4, "unet.lora_alpha": 8, "unet.alpha_pattern": {"proj_in": 2},
                               "unet.rank_pattern": {"down_blocks.0.attentions.0.proj_out": 8},
                               "text_encoder.r": 4, "text_encoder.lora_alpha": 4, "text_encoder.use_rslora": true})";
  const auto plan = planKeys({"unet.mid_block.attentions.0.proj_in.lora_A.weight",
                              "unet.mid_block.attentions.0.proj_in.lora_B.weight",
                              "unet.down_blocks.0.attentions.0.proj_out.lora_A.weight",
                              "unet.down_blocks.0.attentions.0.proj_out.lora_B.weight",
                              "unet.up_blocks.1.attentions.0.proj_in_x.lora_A.weight",
                              "unet.up_blocks.1.attentions.0.proj_in_x.lora_B.weight",
                              "text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight",
                              "text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_B.weight"},
                             {{"lora_adapter_metadata", meta}}, "p.safetensors");
  EXPECT_EQ(plan.format, std::string("peft"));
  REQUIRE(plan.layers.size() == 4u);
  EXPECT_EQ(plan.layers[0].module, std::string("mid_block.attentions.0.proj_in"));
  EXPECT_EQ(layerScale(plan, plan.layers[0], std::nullopt, 4), 0.5);   // alpha pattern: 2 / 4
  EXPECT_EQ(layerScale(plan, plan.layers[1], std::nullopt, 8), 1.0);   // rank pattern: 8 / 8
  EXPECT_EQ(layerScale(plan, plan.layers[2], std::nullopt, 4), 2.0);   // "proj_in" is not a suffix of proj_in_x
  EXPECT_NEAR(layerScale(plan, plan.layers[3], std::nullopt, 4), 2.0, 1e-12);  // rsLoRA: 4 / sqrt(4)
  // Without a config: scale 1 (diffusers' alpha = rank), or the file's alpha / rank.
  const auto bare = planKeys({"unet.conv_in.lora_A.weight", "unet.conv_in.lora_B.weight", "unet.conv_in.alpha"}, {}, "b");
  EXPECT_EQ(layerScale(bare, bare.layers[0], 2.0, 4), 0.5);
  EXPECT_EQ(layerScale(bare, bare.layers[0], std::nullopt, 4), 1.0);
  EXPECT_THROWS(planKeys({"unet.a.lora_A.weight", "unet.a.lora_B.weight"}, {{"lora_adapter_metadata", "{\"unet.r\": 0}"}}, "m"),
                FormatError, "not a positive number");
  EXPECT_THROWS(planKeys({"unet.a.lora_A.weight", "unet.a.lora_B.weight"}, {{"lora_adapter_metadata", "{"}}, "m"),
                FormatError, "");
}

RESPO_TEST(older_diffusers_layouts_name_the_same_modules) {
  const auto plan = planKeys({"unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.down.weight",
                              "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.up.weight",
                              "text_encoder.text_model.encoder.layers.0.mlp.fc1.lora_linear_layer.down.weight",
                              "text_encoder.text_model.encoder.layers.0.mlp.fc1.lora_linear_layer.up.weight",
                              "base_model.model.conv_in.lora_A.weight", "base_model.model.conv_in.lora_B.weight"},
                             {}, "d");
  REQUIRE(plan.layers.size() == 3u);
  EXPECT_EQ(plan.layers[0].module, std::string("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0"));
  EXPECT_EQ(plan.layers[1].module, std::string("text_model.encoder.layers.0.mlp.fc1"));
  EXPECT(plan.layers[1].component == Component::TextEncoder);
  EXPECT_EQ(plan.layers[2].module, std::string("conv_in"));
  EXPECT(plan.layers[2].component == Component::Unet);
}

RESPO_TEST(unsupported_and_broken_files_are_refused_by_name) {
  EXPECT_THROWS(planKeys({"lora_unet_a.hada_w1_a"}, {}, "f"), FormatError, "LoHa");
  EXPECT_THROWS(planKeys({"lora_unet_a.lokr_w1"}, {}, "f"), FormatError, "LoKr");
  EXPECT_THROWS(planKeys({"lora_unet_a.lora_mid.weight"}, {}, "f"), FormatError, "CP decomposition");
  EXPECT_THROWS(planKeys({"unet.a.lora_A.weight", "unet.a.lora_B.weight", "unet.a.lora_B.bias"}, {}, "f"), FormatError, "bias");
  EXPECT_THROWS(planKeys({"lora_unet_a.lora_up.weight"}, {}, "f"), FormatError, "holds no LoRA layers");
  EXPECT_THROWS(planKeys({"lora_unet_a.lora_down.weight", "lora_unet_a.lora_up.weight", "lora_unet_b.lora_up.weight"}, {}, "f"),
                FormatError, "belongs to no LoRA layer");
  EXPECT_THROWS(planKeys({"lora_vae_a.lora_down.weight", "lora_vae_a.lora_up.weight"}, {}, "f"), FormatError,
                "not under lora_unet_");
  EXPECT_THROWS(planKeys({"lora_unet_a.lora_down.weight", "lora_unet_a.lora_up.weight", "unet.b.lora_A.weight",
                          "unet.b.lora_B.weight"}, {}, "f"),
                FormatError, "mixes LoRA layouts");
  EXPECT_THROWS(planKeys({}, {}, "f"), FormatError, "no tensors");
}

RESPO_TEST(prompt_tags_keep_other_angle_brackets_and_refuse_bad_weights) {
  std::vector<PromptLora> tags;
  EXPECT_EQ(extractLoraTags("<lora:a> 1 < 2 <lora:b:0.5:0.25>x <lora:unclosed", &tags),
            std::string(" 1 < 2 x <lora:unclosed"));
  REQUIRE(tags.size() == 2u);
  EXPECT_EQ(tags[1].textWeight, 0.5);
  EXPECT_EQ(tags[1].unetWeight, 0.25);
  EXPECT_THROWS(extractLoraTags("<lora:a:1:2:3>"), InvalidArgument, "more than two weights");
  EXPECT_THROWS(extractLoraTags("<lora:a:nan>"), InvalidArgument, "use a number");
  EXPECT_THROWS(extractLoraTags("<lora:a:21>"), InvalidArgument, "use a number");
  EXPECT_EQ(extractLoraTags("no tags (at:1.2) [all]"), std::string("no tags (at:1.2) [all]"));
}
