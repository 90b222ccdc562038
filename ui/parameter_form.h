#pragma once
// The generation settings: prompt, negative prompt, seed (with random and lock), steps, CFG,
// scheduler, size and batch, and the LoRA list (files of the LoRA folders; Add puts A1111's
// <lora:name:weight> tag into the prompt), and the input picture of image to image (chosen, or dropped
// on the form, with its denoising strength). It shows and edits a GenerationRequest; it does not generate.
#include <memory>

#include <QImage>
#include <QStringList>
#include <QWidget>

#include "core/pipeline/generation_request.h"

class QCheckBox;
class QLabel;
class QComboBox;
class QDoubleSpinBox;
class QPlainTextEdit;
class QSpinBox;
class QToolButton;

namespace respo::ui {

class ParameterForm : public QWidget {
  Q_OBJECT
 public:
  explicit ParameterForm(QWidget* parent = nullptr);

  respo::pipeline::GenerationRequest request() const;
  // Shows a request (restoring a saved picture); the seed is locked so Generate reproduces it.
  void setRequest(const respo::pipeline::GenerationRequest& request);
  QString prompt() const;
  void setPrompt(const QString& prompt);
  void setSeed(int seed);  // and locks it
  bool seedLocked() const;
  // Called before each generation: an unlocked seed moves on to a fresh random one.
  void advanceSeed();
  // The loaded model's native size and size step (the VAE factor).
  void setModelGeometry(int nativeSize, int sizeStep);
  // Where the LoRA list looks (the user's LoRA folder first, then the folders added; remembered).
  QStringList loraFolders() const { return loraFolders_; }
  void addLoraFolder(const QString& folder);
  // Lists the LoRA files again (names relative to their folder, without .safetensors).
  void refreshLoras();
  // Appends <lora:NAME:WEIGHT> for the chosen LoRA and weight to the prompt.
  void addChosenLora();
  // Image to image from this picture (PNG, read by the engine's reader); false (and nothing changes)
  // when it cannot be read. clearInitImage() goes back to text to image.
  bool setInitImage(const QString& path);
  void clearInitImage();
  bool hasInitImage() const { return !initImage_.isNull(); }
  // Inpainting: the painted mask (Grayscale8, the picture's size, white where repainted); null: none.
  QImage mask() const { return mask_; }
  void setMask(const QImage& mask);
  // Opens the mask painter over the picture (window-modal); OK keeps what was painted.
  void openMaskPainter();

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 public Q_SLOTS:
  void randomizeSeed();

 Q_SIGNALS:
  void sizeChanged(int width, int height);

 private:
  QPlainTextEdit* prompt_ = nullptr;
  QPlainTextEdit* negative_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QToolButton* randomSeed_ = nullptr;
  QCheckBox* lockSeed_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QDoubleSpinBox* cfg_ = nullptr;
  QComboBox* scheduler_ = nullptr;
  QComboBox* speed_ = nullptr;
  QCheckBox* vaeTiling_ = nullptr;
  QCheckBox* winograd_ = nullptr;
  QSpinBox* width_ = nullptr;
  QSpinBox* height_ = nullptr;
  QSpinBox* batch_ = nullptr;
  QComboBox* lora_ = nullptr;
  QDoubleSpinBox* loraWeight_ = nullptr;
  QToolButton* addLora_ = nullptr;
  QToolButton* loraFolder_ = nullptr;
  QStringList loraFolders_;
  QLabel* initLabel_ = nullptr;
  QDoubleSpinBox* strength_ = nullptr;
  QToolButton* initClear_ = nullptr;
  // The picture as read (shared with every request) and as shown; null: text to image.
  std::shared_ptr<const respo::io::RgbImage> initPicture_;
  QImage initImage_;
  QToolButton* paintMask_ = nullptr;
  QImage mask_;
  std::shared_ptr<const respo::io::RgbImage> maskPicture_;  // mask_ as the engine takes it
  double maskBlur_ = 4;
};

}  // namespace respo::ui
