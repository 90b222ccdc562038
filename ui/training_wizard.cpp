#include "ui/training_wizard.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>
#include <QRegularExpression>
#include <cmath>

#include "core/common/error.h"

#include "core/respo/prompt_list.h"
#include "ui/prompt_import.h"

namespace respo::ui {

namespace c = respo::concepts;

// L_resp and L_sem against the step, on a log scale (they differ by orders of magnitude).
class LossChart : public QChartView {
 public:
  explicit LossChart(QWidget* parent) : QChartView(parent) {
    setObjectName("lossChart");
    auto* chart = new QChart;
    chart->setTitle(QObject::tr("Losses"));
    responsible_ = new QLineSeries(chart);
    responsible_->setName(QObject::tr("L_resp (steering)"));
    semantic_ = new QLineSeries(chart);
    semantic_->setName(QObject::tr("L_sem (keeping the prompt)"));
    chart->addSeries(responsible_);
    chart->addSeries(semantic_);
    steps_ = new QValueAxis(chart);
    steps_->setTitleText(QObject::tr("step"));
    steps_->setLabelFormat("%d");
    loss_ = new QLogValueAxis(chart);
    loss_->setLabelFormat("%.0e");
    chart->addAxis(steps_, Qt::AlignBottom);
    chart->addAxis(loss_, Qt::AlignLeft);
    for (auto* series : {responsible_, semantic_}) series->attachAxis(steps_), series->attachAxis(loss_);
    chart->legend()->setAlignment(Qt::AlignBottom);
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(220);
    clear(1);
  }
  void clear(int total) {
    responsible_->clear();
    semantic_->clear();
    steps_->setRange(0, std::max(1, total));
    low_ = 1e30, high_ = 0;
  }
  void add(int step, double responsible, double semantic) {
    // A log axis cannot show zero; the floor keeps a perfect step visible.
    const double r = std::max(responsible, 1e-12), s = std::max(semantic, 1e-12);
    responsible_->append(step, r);
    semantic_->append(step, s);
    low_ = std::min({low_, r, s});
    high_ = std::max({high_, r, s});
    loss_->setRange(std::pow(10.0, std::floor(std::log10(low_))), std::pow(10.0, std::ceil(std::log10(high_))));
  }
  int points() const { return static_cast<int>(responsible_->count()); }

 private:
  QLineSeries* responsible_;
  QLineSeries* semantic_;
  QValueAxis* steps_;
  QLogValueAxis* loss_;
  double low_ = 1e30, high_ = 0;
};

namespace {

QString joined(const std::vector<std::string>& lines) {
  QStringList out;
  for (const auto& line : lines) out << QString::fromStdString(line);
  return out.join('\n');
}

std::vector<std::string> promptLines(const QPlainTextEdit* edit) {
  return c::parsePromptList(edit->toPlainText().toStdString(), c::PromptListFormat::Lines);
}

// One field of the settings form with its one-line explanation under it.
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

QString formatSeconds(double seconds) {
  if (seconds < 0) return QObject::tr("estimating...");
  const int s = static_cast<int>(std::lround(seconds));
  if (s < 60) return QObject::tr("%1 s").arg(s);
  if (s < 3600) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QObject::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

// A file name from a concept name: letters, digits, '-' and '_' kept, the rest '-'.
QString fileStem(const QString& name) {
  QString out;
  for (const QChar ch : name.trimmed()) out += (ch.isLetterOrNumber() || ch == '-' || ch == '_') ? ch : QChar('-');
  while (out.contains("--")) out.replace("--", "-");
  out = out.remove(QRegularExpression("^-+|-+$"));
  return out.isEmpty() ? QStringLiteral("concept") : out;
}

}  // namespace

TrainingWizard::TrainingWizard(GenerationWorker* worker, QString currentModel, QWidget* parent)
    : QWizard(parent), worker_(worker), currentModel_(std::move(currentModel)) {
  setObjectName("trainingWizard");
  setWindowTitle(tr("Train a new concept"));
  setWizardStyle(QWizard::ModernStyle);
  setOption(QWizard::NoBackButtonOnLastPage, false);
  setOption(QWizard::HaveHelpButton, false);
  resize(860, 760);
  buildConceptPage();
  buildPromptsPage();
  buildSettingsPage();
  buildTrainingPage();
  applySettings(c::preset("gender-woman"));
  preset_->setCurrentIndex(preset_->findData("gender-woman"));

  connect(worker_, &GenerationWorker::trainingProgressed, this, &TrainingWizard::onProgress);
  connect(worker_, &GenerationWorker::trainingFinished, this, &TrainingWizard::onFinished);
  connect(worker_, &GenerationWorker::trainingYielded, this, [this](int id) {
    if (id == taskId_) statusLabel_->setText(tr("Waiting while the main window generates; training continues after it."));
  });
  connect(worker_, &GenerationWorker::taskCancelled, this, [this](int id) { onEnded(id, {}, false); });
  connect(worker_, &GenerationWorker::taskFailed, this, [this](int id, const QString& m) { onEnded(id, m, true); });
  connect(this, &QWizard::currentIdChanged, this, [this](int) { updateButtons(); });
  refreshUnfinished();
}

TrainingWizard::~TrainingWizard() {
  if (taskId_ != 0) worker_->cancel(taskId_);
}

void TrainingWizard::setCurrentModel(const QString& path) {
  const bool followed = baseModel_->text() == currentModel_ || baseModel_->text().isEmpty();
  currentModel_ = path;
  if (followed) baseModel_->setText(path);
}

void TrainingWizard::buildConceptPage() {
  auto* page = new QWizardPage;
  page->setTitle(tr("The concept"));
  page->setSubTitle(tr("What the module should do. A fairness concept is one member of a group (the app "
                       "draws among a group's members per image); a safety concept steers away from "
                       "unsafe content."));
  auto* layout = new QVBoxLayout(page);
  auto* form = new QFormLayout;
  preset_ = new QComboBox;
  preset_->setObjectName("presetCombo");
  preset_->addItem(tr("(keep the current settings)"), QString());
  for (const auto& name : c::presetNames()) preset_->addItem(QString::fromStdString(name), QString::fromStdString(name));
  preset_->setToolTip(tr("The paper's settings for a concept of this kind (method.md); every value stays editable"));
  form->addRow(tr("Start from preset"), preset_);
  fairness_ = new QRadioButton(tr("Fairness: a member of a group"));
  fairness_->setObjectName("fairnessRadio");
  safety_ = new QRadioButton(tr("Safety: steer away from an unsafe concept"));
  safety_->setObjectName("safetyRadio");
  auto* kinds = new QButtonGroup(page);
  kinds->addButton(fairness_);
  kinds->addButton(safety_);
  auto* kindBox = new QVBoxLayout;
  kindBox->addWidget(fairness_);
  kindBox->addWidget(safety_);
  form->addRow(tr("Kind"), kindBox);
  name_ = new QLineEdit;
  name_->setObjectName("conceptName");
  name_->setPlaceholderText(tr("e.g. a woman, an elderly person, violence"));
  form->addRow(tr("Name"), name_);
  group_ = new QComboBox;
  group_->setObjectName("conceptGroup");
  group_->setEditable(true);
  group_->addItems({"gender", "skin tone", "race", "age"});
  group_->setToolTip(tr("Members of one group are balanced against each other in the main window"));
  form->addRow(tr("Group"), group_);
  auto* modelRow = new QHBoxLayout;
  baseModel_ = new QLineEdit(currentModel_);
  baseModel_->setObjectName("baseModel");
  baseModel_->setToolTip(tr("The module is trained for this model; the main window switches to it when training starts"));
  auto* browseFolder = new QPushButton(tr("Folder..."));
  connect(browseFolder, &QPushButton::clicked, this, [this] {
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Base model (a diffusers folder)"), baseModel_->text());
    if (!folder.isEmpty()) baseModel_->setText(folder);
  });
  auto* browseFile = new QPushButton(tr("File..."));
  connect(browseFile, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getOpenFileName(this, tr("Base model (a single-file checkpoint)"), baseModel_->text(),
                                                      tr("Safetensors checkpoints (*.safetensors)"));
    if (!file.isEmpty()) baseModel_->setText(file);
  });
  modelRow->addWidget(baseModel_, 1);
  modelRow->addWidget(browseFolder);
  modelRow->addWidget(browseFile);
  form->addRow(tr("Base model"), modelRow);
  layout->addLayout(form);

  auto* resumeBox = new QGroupBox(tr("Unfinished runs (stopped before their last step)"));
  auto* resumeLayout = new QVBoxLayout(resumeBox);
  unfinished_ = new QListWidget;
  unfinished_->setObjectName("unfinishedList");
  unfinished_->setMaximumHeight(110);
  resumeButton_ = new QPushButton(tr("Resume the selected run"));
  resumeButton_->setObjectName("resumeUnfinishedButton");
  resumeButton_->setEnabled(false);
  discardButton_ = new QPushButton(tr("Discard..."));
  discardButton_->setObjectName("discardUnfinishedButton");
  discardButton_->setEnabled(false);
  resumeLayout->addWidget(unfinished_);
  auto* resumeButtons = new QHBoxLayout;
  resumeButtons->addStretch(1);
  resumeButtons->addWidget(discardButton_);
  resumeButtons->addWidget(resumeButton_);
  resumeLayout->addLayout(resumeButtons);
  layout->addWidget(resumeBox);
  layout->addStretch(1);
  connect(unfinished_, &QListWidget::currentRowChanged, this, [this](int row) {
    resumeButton_->setEnabled(row >= 0);
    discardButton_->setEnabled(row >= 0);
  });
  connect(resumeButton_, &QPushButton::clicked, this, &TrainingWizard::resumeSelected);
  connect(discardButton_, &QPushButton::clicked, this, &TrainingWizard::discardSelected);
  connect(preset_, &QComboBox::activated, this, &TrainingWizard::onPresetChosen);
  connect(fairness_, &QRadioButton::toggled, this, &TrainingWizard::onKindChanged);
  setPage(ConceptPage, page);
}

void TrainingWizard::buildPromptsPage() {
  auto* page = new QWizardPage;
  page->setTitle(tr("Prompts"));
  page->setSubTitle(tr("One prompt per line, pasted or imported from a .txt or .csv file (the \"prompt\" column, "
                       "else the first). Each step draws one index j and uses neutral prompt j and target prompt j "
                       "(lists of different lengths wrap around)."));
  auto* layout = new QVBoxLayout(page);
  promptsHelp_ = new QLabel;
  promptsHelp_->setWordWrap(true);
  layout->addWidget(promptsHelp_);
  auto addList = [&](const QString& title, const char* name, QPlainTextEdit*& edit) {
    auto* box = new QGroupBox(title);
    auto* boxLayout = new QVBoxLayout(box);
    edit = new QPlainTextEdit;
    edit->setObjectName(name);
    edit->setTabChangesFocus(true);
    auto* import = new QPushButton(tr("Import .txt / .csv..."));
    import->setObjectName(QString(name) + "Import");
    QPlainTextEdit* target = edit;
    connect(import, &QPushButton::clicked, this, [this, target] { importPrompts(target); });
    boxLayout->addWidget(edit);
    boxLayout->addWidget(import, 0, Qt::AlignRight);
    layout->addWidget(box, 1);
  };
  addList(tr("Neutral prompts (what users type)"), "neutralPrompts", neutral_);
  addList(tr("Target prompts (what the module should steer towards)"), "targetPrompts", target_);
  auto* negativeRow = new QFormLayout;
  negativeLabel_ = new QLabel(tr("Unsafe concept"));
  negative_ = new QLineEdit;
  negative_->setObjectName("negativePrompt");
  negative_->setPlaceholderText(tr("what the module steers away from, e.g. blood, violence"));
  negativeRow->addRow(negativeLabel_, negative_);
  layout->addLayout(negativeRow);
  setPage(PromptsPage, page);
}

void TrainingWizard::buildSettingsPage() {
  auto* page = new QWizardPage;
  page->setTitle(tr("Training settings"));
  page->setSubTitle(tr("The preset's values; change any of them. Hover a field for its explanation."));
  auto* form = new QFormLayout(page);
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
  setPage(SettingsPage, page);
}

void TrainingWizard::buildTrainingPage() {
  auto* page = new QWizardPage;
  page->setTitle(tr("Training"));
  page->setSubTitle(tr("Runs in the background; the main window stays usable (a generation asked for meanwhile "
                       "runs first, then training continues). Pause keeps a checkpoint: resume later, also after "
                       "closing the app."));
  auto* layout = new QVBoxLayout(page);
  auto* buttons = new QHBoxLayout;
  trainButton_ = new QPushButton(tr("Train"));
  trainButton_->setObjectName("trainButton");
  pauseButton_ = new QPushButton(tr("Pause"));
  pauseButton_->setObjectName("pauseButton");
  progress_ = new QProgressBar;
  progress_->setObjectName("trainingProgress");
  buttons->addWidget(trainButton_);
  buttons->addWidget(pauseButton_);
  buttons->addWidget(progress_, 1);
  layout->addLayout(buttons);
  stepLabel_ = new QLabel(tr("Not started"));
  stepLabel_->setObjectName("trainingStepLabel");
  layout->addWidget(stepLabel_);
  chart_ = new LossChart(page);
  layout->addWidget(chart_, 1);
  auto* previews = new QGroupBox(tr("Previews: the same seeds without the module (top) and with it (bottom)"));
  previewGrid_ = new QGridLayout(previews);
  layout->addWidget(previews);
  statusLabel_ = new QLabel;
  statusLabel_->setObjectName("trainingStatus");
  statusLabel_->setWordWrap(true);
  layout->addWidget(statusLabel_);
  connect(trainButton_, &QPushButton::clicked, this, &TrainingWizard::startTraining);
  connect(pauseButton_, &QPushButton::clicked, this, &TrainingWizard::pauseTraining);
  setPage(TrainingPage, page);
  setButtonText(QWizard::FinishButton, tr("Close"));
}

void TrainingWizard::onKindChanged() {
  const bool safety = safety_->isChecked();
  group_->setEnabled(!safety);
  if (safety) group_->setEditText("safety");
  else if (group_->currentText() == "safety") group_->setEditText("gender");
  negative_->setVisible(safety);
  negativeLabel_->setVisible(safety);
  promptsHelp_->setText(safety ? tr("Safety: neutral prompts are the scenes users ask for (\"a scene\"); the target is "
                                    "the same scene made safe (often the neutral prompt itself); the unsafe concept is "
                                    "steered away from.")
                               : tr("Fairness: neutral prompts mention a person without the attribute (\"a person\"); "
                                    "targets add it (\"a woman\"). The module learns to add it to any prompt."));
}

void TrainingWizard::onPresetChosen(int index) {
  const QString name = preset_->itemData(index).toString();
  if (!name.isEmpty()) applySettings(c::preset(name.toStdString()));
}

void TrainingWizard::applySettings(const c::ConceptSettings& s) {
  (s.kind == c::ConceptKind::Safety ? safety_ : fairness_)->setChecked(true);
  onKindChanged();
  name_->setText(QString::fromStdString(s.name));
  if (s.kind == c::ConceptKind::Fairness) group_->setEditText(QString::fromStdString(s.group));
  neutral_->setPlainText(joined(s.neutralPrompts()));
  target_->setPlainText(joined(s.targetPrompts()));
  negative_->setText(QString::fromStdString(s.negativePrompt));
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

c::ConceptSettings TrainingWizard::settings() const {
  c::ConceptSettings s;
  s.kind = safety_->isChecked() ? c::ConceptKind::Safety : c::ConceptKind::Fairness;
  s.name = name_->text().trimmed().toStdString();
  s.group = s.kind == c::ConceptKind::Safety ? "safety" : group_->currentText().trimmed().toStdString();
  const auto neutral = promptLines(neutral_), target = promptLines(target_);
  if (!neutral.empty()) s.neutralPrompt = neutral.front(), s.moreNeutralPrompts.assign(neutral.begin() + 1, neutral.end());
  else s.neutralPrompt.clear();
  if (!target.empty()) s.targetPrompt = target.front(), s.moreTargetPrompts.assign(target.begin() + 1, target.end());
  s.negativePrompt = s.kind == c::ConceptKind::Safety ? negative_->text().trimmed().toStdString() : std::string();
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
  return s;
}

QString TrainingWizard::outputFile(const c::ConceptSettings& s) const {
  if (resumeOutput_) return *resumeOutput_;
  const auto folders = worker_->conceptFolders();
  const QDir folder(QString::fromStdString(folders.front().string()));
  return folder.filePath(fileStem(QString::fromStdString(s.name)) + ".safetensors");
}

respo::gpu::TrainingJob TrainingWizard::trainingJob() const {
  respo::gpu::TrainingJob job;
  job.settings = settings();
  job.output = outputFile(job.settings).toStdString();
  job.checkpointEvery = checkpointEvery_->value();
  job.previewEvery = previewEvery_->value();
  job.previewPrompt = previewPrompt_->text().trimmed().toStdString();
  job.resume = true;
  return job;
}

bool TrainingWizard::validateCurrentPage() {
  const auto s = settings();
  QString problem;
  if (currentId() == ConceptPage) {
    if (s.name.empty()) problem = tr("The concept needs a name.");
    else if (s.group.empty()) problem = tr("A fairness concept needs a group.");
    else if (baseModel_->text().trimmed().isEmpty()) problem = tr("Choose the base model.");
  } else if (currentId() == PromptsPage) {
    if (s.neutralPrompt.empty()) problem = tr("Enter at least one neutral prompt.");
    else if (s.targetPrompt.empty()) problem = tr("Enter at least one target prompt.");
    else if (s.kind == c::ConceptKind::Safety && s.negativePrompt.empty()) problem = tr("Name the unsafe concept.");
  } else if (currentId() == SettingsPage) {
    const auto problems = s.validate();
    if (!problems.empty()) problem = QString::fromStdString(problems.front());
  } else if (currentId() == TrainingPage && isTraining()) {
    problem = tr("Training is still running; pause it first (it resumes from its checkpoint).");
  }
  if (problem.isEmpty()) return true;
  QMessageBox::warning(this, tr("Train a new concept"), problem);
  return false;
}

void TrainingWizard::importPrompts(QPlainTextEdit* target) { importPromptList(this, target); }

void TrainingWizard::refreshUnfinished() {
  unfinished_->clear();
  for (const auto& run : worker_->unfinishedTrainings()) {
    auto* item = new QListWidgetItem(tr("%1 (%2): %3 of %4 steps")
                                         .arg(QString::fromStdString(run.settings.name),
                                              QString::fromStdString(run.settings.group))
                                         .arg(run.stepsDone)
                                         .arg(run.settings.steps),
                                     unfinished_);
    item->setData(Qt::UserRole, QString::fromStdString(run.checkpoint.string()));
    item->setData(Qt::UserRole + 1, QString::fromStdString(run.output.string()));
  }
  unfinished_->parentWidget()->setVisible(unfinished_->count() > 0);
}

void TrainingWizard::resumeSelected() {
  auto* item = unfinished_->currentItem();
  if (!item) return;
  const QString checkpoint = item->data(Qt::UserRole).toString();
  for (const auto& run : worker_->unfinishedTrainings()) {
    if (QString::fromStdString(run.checkpoint.string()) != checkpoint) continue;
    applySettings(run.settings);
    preset_->setCurrentIndex(0);
    resumeOutput_ = item->data(Qt::UserRole + 1).toString();
    // Pages in between are checked on the way; the run's own settings pass.
    while (currentId() != TrainingPage && validateCurrentPage()) next();
    if (currentId() == TrainingPage) startTraining();
    return;
  }
  refreshUnfinished();  // it finished or vanished meanwhile
}

void TrainingWizard::discardSelected() {
  auto* item = unfinished_->currentItem();
  if (!item || isTraining()) return;
  const auto answer = QMessageBox::question(this, tr("Discard the run"),
                                            tr("Delete the checkpoint of \"%1\"? Its progress is lost.").arg(item->text()));
  if (answer != QMessageBox::Yes) return;
  if (!QFile::remove(item->data(Qt::UserRole).toString()))
    QMessageBox::warning(this, tr("Discard the run"), tr("Cannot delete %1").arg(item->data(Qt::UserRole).toString()));
  refreshUnfinished();
}

void TrainingWizard::startTraining() {
  if (isTraining()) return;
  const auto s = settings();
  const auto problems = s.validate();
  if (!problems.empty()) {
    statusLabel_->setText(tr("Cannot train: %1").arg(QString::fromStdString(problems.front())));
    return;
  }
  // A fresh run must not silently replace a module of the same name.
  const auto job = trainingJob();
  const QString output = QString::fromStdString(job.output.string());
  const bool hasCheckpoint = QFileInfo::exists(QString::fromStdString(respo::gpu::GenerationService::checkpointPath(job.output).string()));
  if (!finished_ && !hasCheckpoint && QFileInfo::exists(output) &&
      QMessageBox::question(this, tr("Train a new concept"),
                            tr("%1 already exists. Replace it with the module this run trains?")
                                .arg(QDir::toNativeSeparators(output))) != QMessageBox::Yes)
    return;
  const QString model = baseModel_->text().trimmed();
  if (!model.isEmpty() && model != currentModel_) {
    // The app has one model; the worker loads this one first, and the main window follows.
    Q_EMIT modelRequested(model);
    currentModel_ = model;
  }
  finished_ = false;
  pausing_ = false;
  savedModule_.clear();
  chart_->clear(s.steps);
  progress_->setRange(0, s.steps);
  progress_->setValue(0);
  statusLabel_->setText(tr("Starting (a run with a checkpoint continues from it)..."));
  taskId_ = worker_->enqueueTraining(job);
  Q_EMIT trainingStateChanged(true);
  updateButtons();
}

void TrainingWizard::pauseTraining() {
  if (!isTraining()) return;
  pausing_ = true;
  statusLabel_->setText(tr("Pausing at the next step..."));
  worker_->cancel(taskId_);
}

void TrainingWizard::onProgress(int id, const TrainingStatus& status) {
  if (id != taskId_) return;
  progress_->setRange(0, status.total);
  progress_->setValue(status.step);
  if (!status.history.empty()) {  // a resumed run: the curve so far
    chart_->clear(status.total);
    for (std::size_t i = 0; i < status.history.size(); ++i)
      chart_->add(static_cast<int>(i) + 1, status.history[i].first, status.history[i].second);
  }
  if (status.step > status.resumedFrom) chart_->add(status.step, status.responsibleLoss, status.semanticLoss);
  QString text = tr("Step %1 of %2").arg(status.step).arg(status.total);
  if (status.resumedFrom > 0) text += tr(" (resumed at %1)").arg(status.resumedFrom);
  if (status.step > status.resumedFrom)
    text += tr(" · L_resp %1 · L_sem %2 · %3 elapsed · ETA %4")
                .arg(status.responsibleLoss, 0, 'g', 4)
                .arg(status.semanticLoss, 0, 'g', 4)
                .arg(formatSeconds(status.seconds), formatSeconds(status.etaSeconds));
  stepLabel_->setText(text);
  auto show = [this](const QList<QImage>& images, QList<QLabel*>& labels, int row, const QString& prefix) {
    for (int i = 0; i < images.size(); ++i) {
      if (i >= labels.size()) {
        auto* label = new QLabel;
        label->setObjectName(QString("%1Preview%2").arg(prefix).arg(i));
        label->setMinimumSize(128, 128);
        label->setAlignment(Qt::AlignCenter);
        previewGrid_->addWidget(label, row, i);
        labels << label;
      }
      labels[i]->setPixmap(QPixmap::fromImage(images[i].scaled(128, 128, Qt::KeepAspectRatio, Qt::FastTransformation)));
    }
  };
  show(status.baseline, baselinePreviews_, 0, "baseline");
  show(status.current, currentPreviews_, 1, "current");
  if (!status.current.isEmpty()) statusLabel_->setText(tr("Preview at step %1").arg(status.step));
}

void TrainingWizard::onFinished(int id, const TrainingResult& result) {
  if (id != taskId_) return;
  taskId_ = 0;
  finished_ = true;
  resumeOutput_.reset();
  savedModule_ = result.file;
  progress_->setValue(progress_->maximum());
  statusLabel_->setText(tr("Saved %1 (%2 steps in %3%4). It is listed in the main window's concept panel.")
                            .arg(QDir::toNativeSeparators(result.file))
                            .arg(result.steps)
                            .arg(formatSeconds(result.seconds),
                                 result.resumedFrom > 0 ? tr(", resumed at step %1").arg(result.resumedFrom) : QString()));
  refreshUnfinished();
  Q_EMIT trainingStateChanged(false);
  Q_EMIT moduleSaved(result.file);
  updateButtons();
}

void TrainingWizard::onEnded(int id, const QString& message, bool failed) {
  if (id != taskId_) return;
  taskId_ = 0;
  if (failed) statusLabel_->setText(tr("Training failed: %1").arg(message));
  else if (progress_->value() > 0)
    statusLabel_->setText(tr("Paused at step %1; Resume continues from the checkpoint.").arg(progress_->value()));
  else
    statusLabel_->setText(tr("Stopped before the first step."));
  pausing_ = false;
  refreshUnfinished();
  Q_EMIT trainingStateChanged(false);
  updateButtons();
}

void TrainingWizard::updateButtons() {
  const bool training = isTraining();
  trainButton_->setEnabled(!training);
  trainButton_->setText(finished_ ? tr("Train again") : progress_->value() > 0 ? tr("Resume") : tr("Train"));
  pauseButton_->setEnabled(training && !pausing_);
  if (auto* back = button(QWizard::BackButton)) back->setEnabled(!training && currentId() != ConceptPage);
}

void TrainingWizard::reject() {
  if (isTraining()) {
    const auto answer = QMessageBox::question(this, tr("Train a new concept"),
                                              tr("Stop training? The run keeps its checkpoint and can be resumed from "
                                                 "this wizard's first page."));
    if (answer != QMessageBox::Yes) return;
    worker_->cancel(taskId_);
    taskId_ = 0;
    Q_EMIT trainingStateChanged(false);
  }
  QWizard::reject();
}

}  // namespace respo::ui
