#include "ui/parameter_form.h"

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QLabel>
#include <QMimeData>
#include <QDirIterator>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QMap>
#include <QPlainTextEdit>
#include <QRandomGenerator>
#include <QSettings>
#include <QSpinBox>
#include <QToolButton>

#include "core/common/paths.h"
#include "core/pipeline/generation_parameters.h"
#include "gpu/generation_service.h"
#include "core/common/error.h"
#include "ui/image_pixels.h"
#include "ui/mask_painter.h"

namespace respo::ui {

ParameterForm::ParameterForm(QWidget* parent) : QWidget(parent) {
  auto* form = new QFormLayout(this);
  form->setContentsMargins(0, 0, 0, 0);

  prompt_ = new QPlainTextEdit(this);
  prompt_->setObjectName("promptEdit");
  prompt_->setPlaceholderText(tr("Describe the image, e.g. \"a photo of a doctor\""));
  prompt_->setMaximumHeight(80);
  prompt_->setTabChangesFocus(true);
  form->addRow(tr("Prompt"), prompt_);

  negative_ = new QPlainTextEdit(this);
  negative_->setObjectName("negativeEdit");
  negative_->setPlaceholderText(tr("What the image should not show"));
  negative_->setMaximumHeight(50);
  negative_->setTabChangesFocus(true);
  form->addRow(tr("Negative"), negative_);

  auto* seedRow = new QHBoxLayout;
  seed_ = new QSpinBox(this);
  seed_->setObjectName("seedSpin");
  seed_->setRange(0, std::numeric_limits<int>::max());
  seed_->setValue(1);
  randomSeed_ = new QToolButton(this);
  randomSeed_->setObjectName("randomSeedButton");
  randomSeed_->setText(tr("Random"));
  randomSeed_->setToolTip(tr("Draw a new random seed"));
  connect(randomSeed_, &QToolButton::clicked, this, &ParameterForm::randomizeSeed);
  lockSeed_ = new QCheckBox(tr("Lock"), this);
  lockSeed_->setObjectName("lockSeedCheck");
  lockSeed_->setChecked(true);
  lockSeed_->setToolTip(tr("Keep this seed; when unlocked, every generation draws a new one"));
  seedRow->addWidget(seed_, 1);
  seedRow->addWidget(randomSeed_);
  seedRow->addWidget(lockSeed_);
  form->addRow(tr("Seed"), seedRow);

  steps_ = new QSpinBox(this);
  steps_->setObjectName("stepsSpin");
  steps_->setRange(1, 150);
  steps_->setValue(25);
  form->addRow(tr("Steps"), steps_);

  cfg_ = new QDoubleSpinBox(this);
  cfg_->setObjectName("cfgSpin");
  cfg_->setRange(0, 30);
  cfg_->setSingleStep(0.5);
  cfg_->setDecimals(1);
  cfg_->setValue(7.5);
  cfg_->setToolTip(tr("Classifier-free guidance scale"));
  form->addRow(tr("CFG scale"), cfg_);

  scheduler_ = new QComboBox(this);
  scheduler_->setObjectName("schedulerCombo");
  scheduler_->addItem(tr("Model default"), QString());
  for (const auto& name : respo::gpu::GenerationService::schedulerNames())
  {
    // As front ends list them: "DPM++ 2M Karras" (the schedule named when it is not the sampler's own).
    const auto label = respo::pipeline::samplerLabel(name);
    const auto text = label.sampler + (label.schedule == "Automatic" ? "" : " " + label.schedule);
    scheduler_->addItem(QString::fromStdString(text), QString::fromStdString(name));
  }
  form->addRow(tr("Sampler"), scheduler_);

  speed_ = new QComboBox(this);
  speed_->setObjectName("speedCombo");
  speed_->addItem(tr("Full quality"), 0);
  speed_->addItem(tr("Fast: step caching, full UNet every 2nd step"), 2);
  speed_->addItem(tr("Faster: step caching, full UNet every 3rd step"), 3);
  speed_->setToolTip(tr("Step caching reuses the UNet's deep features between full steps and recomputes only its "
                        "shallow layers: faster, with a small measured loss of fidelity (docs/speed.md). Concept "
                        "modules stay in effect through the reused features."));
  form->addRow(tr("Speed"), speed_);
  winograd_ = new QCheckBox(tr("Faster convolutions (more memory)"), this);
  winograd_->setObjectName("winogradCheck");
  winograd_->setToolTip(tr("Computes the large 3x3 convolutions on the CPU by Winograd's F(4x4, 3x3): about 14% "
                           "faster on an SD 1.5-size model, for about 1.4 GB more memory there (each layer keeps its "
                           "transformed weight). Pictures differ from direct convolutions by about one part in a "
                           "million. No effect on a GPU or on small models such as the embedded one."));
  form->addRow(QString(), winograd_);
  vaeTiling_ = new QCheckBox(tr("Decode in tiles"), this);
  vaeTiling_->setObjectName("vaeTilingCheck");
  vaeTiling_->setToolTip(tr("Decodes the image in overlapping tiles: large images need the memory of one tile. "
                            "Pictures differ slightly near the tiles' seams; images no larger than a tile are "
                            "unchanged."));
  form->addRow(tr("Memory"), vaeTiling_);

  auto* sizeRow = new QHBoxLayout;
  width_ = new QSpinBox(this);
  width_->setObjectName("widthSpin");
  height_ = new QSpinBox(this);
  height_->setObjectName("heightSpin");
  for (auto* spin : {width_, height_}) {
    spin->setRange(8, 2048);
    spin->setSingleStep(8);
    spin->setValue(512);
    spin->setSuffix(tr(" px"));
    connect(spin, &QSpinBox::editingFinished, this, [this] { Q_EMIT sizeChanged(width_->value(), height_->value()); });
  }
  sizeRow->addWidget(width_);
  sizeRow->addWidget(height_);
  form->addRow(tr("Size"), sizeRow);

  batch_ = new QSpinBox(this);
  batch_->setObjectName("batchSpin");
  batch_->setRange(1, 16);
  batch_->setToolTip(tr("Images per generation (a fairness group's balanced policy spreads its members over them)"));
  form->addRow(tr("Batch"), batch_);

  auto* loraRow = new QHBoxLayout;
  lora_ = new QComboBox(this);
  lora_->setObjectName("loraCombo");
  lora_->setToolTip(tr("LoRA files of the LoRA folders; Add puts <lora:name:weight> into the prompt"));
  loraWeight_ = new QDoubleSpinBox(this);
  loraWeight_->setObjectName("loraWeightSpin");
  loraWeight_->setRange(-20, 20);
  loraWeight_->setSingleStep(0.1);
  loraWeight_->setDecimals(2);
  loraWeight_->setValue(1.0);
  loraWeight_->setToolTip(tr("How strongly the LoRA changes the model (1: as trained)"));
  addLora_ = new QToolButton(this);
  addLora_->setObjectName("addLoraButton");
  addLora_->setText(tr("Add"));
  addLora_->setToolTip(tr("Add the LoRA to the prompt"));
  connect(addLora_, &QToolButton::clicked, this, &ParameterForm::addChosenLora);
  loraFolder_ = new QToolButton(this);
  loraFolder_->setObjectName("loraFolderButton");
  loraFolder_->setText(tr("Folder..."));
  loraFolder_->setToolTip(tr("Add a folder of LoRA files to the list"));
  connect(loraFolder_, &QToolButton::clicked, this, [this] {
    const auto dir = QFileDialog::getExistingDirectory(this, tr("A folder of LoRA files"));
    if (!dir.isEmpty()) addLoraFolder(dir);
  });
  loraRow->addWidget(lora_, 1);
  loraRow->addWidget(loraWeight_);
  loraRow->addWidget(addLora_);
  loraRow->addWidget(loraFolder_);
  form->addRow(tr("LoRA"), loraRow);
  auto* initRow = new QHBoxLayout;
  auto* initChoose = new QToolButton(this);
  initChoose->setObjectName("initImageButton");
  initChoose->setText(tr("Picture..."));
  initChoose->setToolTip(tr("Start from a picture (image to image); or drop one on the settings"));
  connect(initChoose, &QToolButton::clicked, this, [this] {
    const auto path = QFileDialog::getOpenFileName(this, tr("Start from a picture"), QString(),
                                                   tr("PNG pictures (*.png)"));
    if (!path.isEmpty()) setInitImage(path);
  });
  initLabel_ = new QLabel(tr("none: from noise"), this);
  initLabel_->setObjectName("initImageLabel");
  strength_ = new QDoubleSpinBox(this);
  strength_->setObjectName("strengthSpin");
  strength_->setRange(0.01, 1.0);
  strength_->setSingleStep(0.05);
  strength_->setDecimals(2);
  strength_->setValue(0.75);
  strength_->setPrefix(tr("strength "));
  strength_->setToolTip(tr("Denoising strength: how much of the picture is redrawn (1: all of it)"));
  strength_->setEnabled(false);
  initClear_ = new QToolButton(this);
  initClear_->setObjectName("clearInitImageButton");
  initClear_->setText(tr("Clear"));
  initClear_->setEnabled(false);
  connect(initClear_, &QToolButton::clicked, this, &ParameterForm::clearInitImage);
  paintMask_ = new QToolButton(this);
  paintMask_->setObjectName("paintMaskButton");
  paintMask_->setText(tr("Mask..."));
  paintMask_->setToolTip(tr("Paint the part of the picture to redraw (inpainting); the rest is kept"));
  paintMask_->setEnabled(false);
  connect(paintMask_, &QToolButton::clicked, this, &ParameterForm::openMaskPainter);
  initRow->addWidget(initChoose);
  initRow->addWidget(initLabel_, 1);
  initRow->addWidget(paintMask_);
  initRow->addWidget(strength_);
  initRow->addWidget(initClear_);
  form->addRow(tr("Start from"), initRow);
  setAcceptDrops(true);

  loraFolders_ << QString::fromStdString(respo::paths::userLoras().string());
  for (const auto& folder : QSettings().value("loras/folders").toStringList())
    if (!loraFolders_.contains(folder)) loraFolders_ << folder;
  refreshLoras();
}

bool ParameterForm::setInitImage(const QString& path) {
  // Read by the engine's bounded PNG reader, as every picture the studio opens (ui/image_pixels.h).
  try {
    initPicture_ = std::make_shared<const respo::io::RgbImage>(respo::io::readPng(path.toStdString()));
  } catch (const respo::Error&) {
    return false;
  }
  initImage_ = toQImage(*initPicture_);
  const QString name = QFileInfo(path).fileName();
  initLabel_->setText(tr("%1 (%2x%3)").arg(name).arg(initImage_.width()).arg(initImage_.height()));
  initLabel_->setToolTip(path);
  strength_->setEnabled(true);
  initClear_->setEnabled(true);
  paintMask_->setEnabled(true);
  mask_ = QImage();  // a mask belongs to its picture
  maskPicture_.reset();
  return true;
}

void ParameterForm::setMask(const QImage& mask) {
  const bool any = !mask.isNull() && [&] {
    const QImage grey = mask.convertToFormat(QImage::Format_Grayscale8);
    for (int y = 0; y < grey.height(); ++y) {
      const auto* row = grey.constScanLine(y);
      if (std::any_of(row, row + grey.width(), [](uchar v) { return v >= 128; })) return true;
    }
    return false;
  }();
  mask_ = any && mask.size() == initImage_.size() ? mask.convertToFormat(QImage::Format_Grayscale8) : QImage();
  maskPicture_ = mask_.isNull() ? nullptr : std::make_shared<const respo::io::RgbImage>(fromQImage(mask_));
  const QString base = initLabel_->toolTip().isEmpty() ? QString() : QFileInfo(initLabel_->toolTip()).fileName();
  initLabel_->setText(tr("%1 (%2x%3)%4").arg(base).arg(initImage_.width()).arg(initImage_.height())
                          .arg(mask_.isNull() ? QString() : tr(", masked")));
}

void ParameterForm::openMaskPainter() {
  if (initImage_.isNull()) return;
  auto* dialog = new MaskPainterDialog(initImage_, mask_, maskBlur_, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this, [this, dialog] {
    maskBlur_ = dialog->blur();
    setMask(dialog->mask());
  });
  dialog->open();
}

void ParameterForm::clearInitImage() {
  initImage_ = QImage();
  initPicture_.reset();
  mask_ = QImage();
  maskPicture_.reset();
  paintMask_->setEnabled(false);
  initLabel_->setText(tr("none: from noise"));
  initLabel_->setToolTip(QString());
  strength_->setEnabled(false);
  initClear_->setEnabled(false);
}

void ParameterForm::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls() && event->mimeData()->urls().size() == 1 && event->mimeData()->urls()[0].isLocalFile())
    event->acceptProposedAction();
}

void ParameterForm::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.size() == 1 && setInitImage(urls[0].toLocalFile())) event->acceptProposedAction();
}

void ParameterForm::addLoraFolder(const QString& folder) {
  const QString clean = QDir::cleanPath(QFileInfo(folder).absoluteFilePath());
  if (!loraFolders_.contains(clean)) {
    loraFolders_ << clean;
    QSettings().setValue("loras/folders", loraFolders_.mid(1));
  }
  refreshLoras();
}

void ParameterForm::refreshLoras() {
  const QString chosen = lora_->currentData().toString();
  lora_->clear();
  QStringList seen;
  QMap<QString, QString> paths;
  for (const auto& folder : loraFolders_) {
    QDirIterator it(folder, {"*.safetensors"}, QDir::Files, QDirIterator::Subdirectories);
    QStringList names;
    while (it.hasNext()) {
      const QString path = it.next();
      // Tags name a LoRA by its file's stem, wherever below the folder it is (as in A1111).
      const QString name = QFileInfo(path).completeBaseName();
      if (!seen.contains(name)) {
        names << name;
        seen << name;
        paths[name] = path;
      }
    }
    names.sort();
    for (const auto& name : names) {
      lora_->addItem(name, name);
      lora_->setItemData(lora_->count() - 1, paths[name], Qt::ToolTipRole);
    }
  }
  if (lora_->count() == 0) {
    lora_->addItem(tr("No LoRA files yet"), QString());
    lora_->setItemData(0, tr("Put .safetensors LoRA files in %1, or add a folder with Folder...").arg(loraFolders_.join(", ")),
                       Qt::ToolTipRole);
  }
  const int index = lora_->findData(chosen);
  if (index >= 0) lora_->setCurrentIndex(index);
  addLora_->setEnabled(!lora_->currentData().toString().isEmpty());
}

void ParameterForm::addChosenLora() {
  const QString name = lora_->currentData().toString();
  if (name.isEmpty()) return;
  const QString tag = QStringLiteral("<lora:%1:%2>").arg(name, QString::number(loraWeight_->value(), 'g', 4));
  QString text = prompt_->toPlainText();
  if (!text.isEmpty() && !text.endsWith(' ')) text += ' ';
  prompt_->setPlainText(text + tag);
}

respo::pipeline::GenerationRequest ParameterForm::request() const {
  respo::pipeline::GenerationRequest r;
  r.prompt = prompt_->toPlainText().toStdString();
  r.negativePrompt = negative_->toPlainText().toStdString();
  r.seed = static_cast<std::uint64_t>(seed_->value());
  r.steps = steps_->value();
  r.guidanceScale = cfg_->value();
  r.scheduler = scheduler_->currentData().toString().toStdString();
  r.width = width_->value();
  r.height = height_->value();
  r.batch = batch_->value();
  r.stepCache = speed_->currentData().toInt();
  r.vaeTiling = vaeTiling_->isChecked();
  r.winogradConvolutions = winograd_->isChecked();
  for (const auto& folder : loraFolders_) r.loraFolders.push_back(folder.toStdString());
  if (initPicture_) {
    r.initImage = initPicture_;
    r.strength = strength_->value();
    if (maskPicture_) {
      r.mask = maskPicture_;
      r.maskBlur = maskBlur_;
    }
  }
  return r;
}

void ParameterForm::setRequest(const respo::pipeline::GenerationRequest& r) {
  prompt_->setPlainText(QString::fromStdString(r.prompt));
  negative_->setPlainText(QString::fromStdString(r.negativePrompt));
  seed_->setValue(static_cast<int>(std::min<std::uint64_t>(r.seed, std::numeric_limits<int>::max())));
  steps_->setValue(r.steps);
  cfg_->setValue(r.guidanceScale);
  const int index = scheduler_->findData(QString::fromStdString(r.scheduler));
  scheduler_->setCurrentIndex(index < 0 ? 0 : index);
  if (r.width > 0) width_->setValue(r.width);
  if (r.height > 0) height_->setValue(r.height);
  batch_->setValue(r.batch);
  const int speed = speed_->findData(r.stepCache > 1 ? r.stepCache : 0);
  if (speed < 0) speed_->addItem(tr("Step caching, full UNet every %1 steps").arg(r.stepCache), r.stepCache);
  speed_->setCurrentIndex(speed < 0 ? speed_->count() - 1 : speed);
  vaeTiling_->setChecked(r.vaeTiling);
  winograd_->setChecked(r.winogradConvolutions);
  strength_->setValue(r.strength);  // a restored img2img picture's strength (the picture itself is not in the text)
  lockSeed_->setChecked(true);  // a restored picture regenerates as it was
}

QString ParameterForm::prompt() const { return prompt_->toPlainText(); }

void ParameterForm::setPrompt(const QString& prompt) { prompt_->setPlainText(prompt); }

void ParameterForm::setSeed(int seed) {
  seed_->setValue(seed);
  lockSeed_->setChecked(true);
}

bool ParameterForm::seedLocked() const { return lockSeed_->isChecked(); }

void ParameterForm::advanceSeed() {
  if (!seedLocked()) randomizeSeed();
}

void ParameterForm::randomizeSeed() {
  seed_->setValue(static_cast<int>(QRandomGenerator::global()->bounded(std::numeric_limits<int>::max())));
}

void ParameterForm::setModelGeometry(int nativeSize, int sizeStep) {
  refreshLoras();  // a model was (re)loaded: the user may have added LoRA files meanwhile
  for (auto* spin : {width_, height_}) {
    spin->setSingleStep(sizeStep);
    spin->setMinimum(sizeStep);
    spin->setValue(nativeSize);
  }
}

}  // namespace respo::ui
