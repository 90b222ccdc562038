#include "ui/parameter_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QPlainTextEdit>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QToolButton>

#include "core/pipeline/generation_parameters.h"
#include "gpu/generation_service.h"

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
    scheduler_->addItem(QString::fromStdString(respo::pipeline::samplerLabel(name)), QString::fromStdString(name));
  form->addRow(tr("Sampler"), scheduler_);

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
  for (auto* spin : {width_, height_}) {
    spin->setSingleStep(sizeStep);
    spin->setMinimum(sizeStep);
    spin->setValue(nativeSize);
  }
}

}  // namespace respo::ui
