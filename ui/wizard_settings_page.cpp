#include "ui/wizard_settings_page.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>

namespace respo::ui {

namespace c = respo::concepts;

namespace {

// One field of the form with its one-line explanation under it.
void addExplained(QFormLayout* form, const QString& label, QWidget* field, const QString& explanation) {
  auto* box = new QWidget;
  auto* layout = new QVBoxLayout(box);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(1);
  layout->addWidget(field);
  auto* note = new QLabel(explanation);
  note->setWordWrap(true);
  note->setStyleSheet("color: palette(mid); font-size: small;");
  layout->addWidget(note);
  field->setToolTip(explanation);
  form->addRow(label, box);
}

QDoubleSpinBox* realBox(const char* name, double low, double high, int decimals, double step) {
  auto* box = new QDoubleSpinBox;
  box->setObjectName(name);
  box->setRange(low, high);
  box->setDecimals(decimals);
  box->setSingleStep(step);
  return box;
}

QSpinBox* wholeBox(const char* name, int low, int high) {
  auto* box = new QSpinBox;
  box->setObjectName(name);
  box->setRange(low, high);
  return box;
}

}  // namespace

TrainingSettingsPage::TrainingSettingsPage(QWidget* parent) : QWizardPage(parent) {
  setTitle(tr("Training settings"));
  setSubTitle(tr("The preset's values; change any of them. Hover a field for its explanation."));
  auto* form = new QFormLayout(this);
  form->setVerticalSpacing(4);
  steps_ = wholeBox("steps", 1, 1'000'000);
  addExplained(form, tr("Steps"), steps_, tr("Optimizer steps; the paper trains 5,000 (the toy model needs a few hundred)"));
  batch_ = wholeBox("batch", 1, 64);
  addExplained(form, tr("Batch"), batch_, tr("Trajectory latents per step; more is smoother and slower"));
  ramLr_ = realBox("ramLearningRate", 1e-6, 9.9, 6, 1e-3);
  addExplained(form, tr("RAM learning rate"), ramLr_, tr("Adam step size of the module that steers towards the target"));
  samLr_ = realBox("samLearningRate", 1e-6, 9.9, 6, 1e-4);
  addExplained(form, tr("SAM learning rate"), samLr_, tr("Adam step size of the module that keeps the prompt's meaning"));
  lambda_ = realBox("semanticWeight", 0, 1000, 3, 0.1);
  addExplained(form, tr("λ (semantic weight)"), lambda_, tr("Weight of L_sem: how strongly the image must still show the prompt"));
  targetGuidance_ = realBox("targetGuidance", 0, 100, 2, 0.5);
  addExplained(form, tr("w_tar (target guidance)"), targetGuidance_,
               tr("How far past the negative the training target points towards the target prompt"));
  trajectoryGuidance_ = realBox("trajectoryGuidance", 0, 100, 2, 0.5);
  addExplained(form, tr("Trajectory CFG"), trajectoryGuidance_, tr("Guidance scale of the sampler that draws the training latents"));
  seed_ = wholeBox("trainingSeed", 0, 2'000'000'000);
  addExplained(form, tr("Seed"), seed_, tr("Same seed and settings give the same module"));
  trajectorySteps_ = wholeBox("trajectorySteps", 2, 1000);
  addExplained(form, tr("Trajectory steps"), trajectorySteps_, tr("DDIM steps of the schedule the latents are drawn on"));
  maxTrajectoryStep_ = wholeBox("maxTrajectoryStep", 0, 999);
  addExplained(form, tr("Largest trajectory step"), maxTrajectoryStep_, tr("k is drawn from 0..this: how deep into sampling the loss looks"));
  init_ = new QComboBox;
  init_->setObjectName("init");
  init_->addItem(tr("uniform (reference)"), "uniform");
  init_->addItem(tr("zero"), "zero");
  addExplained(form, tr("Initial values"), init_, tr("The reference starts from small random values; zero starts from no change"));
  timestep_ = new QComboBox;
  timestep_->setObjectName("timestepConvention");
  timestep_->addItem(tr("reference (t = 1000 - 20k)"), "reference");
  timestep_->addItem(tr("trajectory (the latent's own timestep)"), "trajectory");
  addExplained(form, tr("Loss timestep"), timestep_, tr("Which timestep the UNet is told in the loss (method.md)"));
  resolution_ = wholeBox("resolution", 0, 4096);
  resolution_->setSpecialValueText(tr("the model's own"));
  resolution_->setSingleStep(8);
  addExplained(form, tr("Resolution"), resolution_, tr("Image size the module is trained for; it applies at this size only"));
  checkpointEvery_ = wholeBox("checkpointEvery", 1, 100'000);
  addExplained(form, tr("Checkpoint every"), checkpointEvery_, tr("Steps between checkpoints a stopped run resumes from"));
  previewEvery_ = wholeBox("previewEvery", 0, 100'000);
  previewEvery_->setSpecialValueText(tr("never"));
  addExplained(form, tr("Preview every"), previewEvery_, tr("Steps between previews (each costs two short generations)"));
  previewPrompt_ = new QLineEdit;
  previewPrompt_->setObjectName("previewPrompt");
  previewPrompt_->setPlaceholderText(tr("the first neutral prompt"));
  addExplained(form, tr("Preview prompt"), previewPrompt_, tr("What the previews show, without and with the module, on fixed seeds"));
  checkpointEvery_->setValue(25);
  previewEvery_->setValue(50);
}

void TrainingSettingsPage::apply(const c::ConceptSettings& s) {
  steps_->setValue(s.steps);
  batch_->setValue(s.batch);
  ramLr_->setValue(s.ramLearningRate);
  samLr_->setValue(s.samLearningRate);
  lambda_->setValue(s.semanticWeight);
  targetGuidance_->setValue(s.targetGuidance);
  trajectoryGuidance_->setValue(s.trajectoryGuidance);
  seed_->setValue(static_cast<int>(s.seed));
  trajectorySteps_->setValue(s.trajectorySteps);
  maxTrajectoryStep_->setValue(s.maxTrajectoryStep);
  init_->setCurrentIndex(std::max(0, init_->findData(QString::fromStdString(s.init))));
  timestep_->setCurrentIndex(s.timestep == c::TimestepConvention::Trajectory ? 1 : 0);
  resolution_->setValue(s.resolution);
}

void TrainingSettingsPage::read(c::ConceptSettings& s) const {
  s.steps = steps_->value();
  s.batch = batch_->value();
  s.ramLearningRate = ramLr_->value();
  s.samLearningRate = samLr_->value();
  s.semanticWeight = lambda_->value();
  s.targetGuidance = targetGuidance_->value();
  s.trajectoryGuidance = trajectoryGuidance_->value();
  s.seed = static_cast<std::uint64_t>(seed_->value());
  s.trajectorySteps = trajectorySteps_->value();
  s.maxTrajectoryStep = maxTrajectoryStep_->value();
  s.init = init_->currentData().toString().toStdString();
  s.timestep = timestep_->currentIndex() == 1 ? c::TimestepConvention::Trajectory : c::TimestepConvention::Reference;
  s.resolution = resolution_->value();
}

int TrainingSettingsPage::checkpointEvery() const { return checkpointEvery_->value(); }
int TrainingSettingsPage::previewEvery() const { return previewEvery_->value(); }
QString TrainingSettingsPage::previewPrompt() const { return previewPrompt_->text().trimmed(); }

}  // namespace respo::ui
