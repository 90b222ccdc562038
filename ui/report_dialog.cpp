#include "ui/report_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "core/respo/audit_card.h"
#include "core/io/atomic_file.h"
#include "core/respo/prompt_list.h"
#include "ui/histogram_chart.h"
#include "ui/tradeoff_chart.h"
#include "ui/prompt_import.h"

namespace respo::ui {

namespace {

QString fixed(double value, int decimals = 3) { return QString::number(value, 'f', decimals); }

// The methods list's fixed entries (item data): the concept modules, the SLD presets, the negative prompt.
const QString kRespoDiff = QStringLiteral("respodiff");
const QString kNegative = QStringLiteral("negative");
const QString kSldPrefix = QStringLiteral("sld:");
const QString kEditPrefix = QStringLiteral("edit:");

// The knobs a sweep can turn.
enum class Knob { RamStrength, SldGuidance };

}  // namespace

ReportDialog::ReportDialog(GenerationWorker* worker, QWidget* parent) : QDialog(parent), worker_(worker) {
  setObjectName("reportDialog");
  setWindowTitle(tr("Fairness report"));
  resize(1280, 880);
  auto* layout = new QHBoxLayout(this);
  auto* splitter = new QSplitter(this);
  layout->addWidget(splitter);

  // Left: what to generate.
  auto* setup = new QWidget(splitter);
  auto* setupLayout = new QVBoxLayout(setup);
  auto* promptBox = new QGroupBox(tr("Prompts"), setup);
  auto* promptLayout = new QVBoxLayout(promptBox);
  promptSet_ = new QComboBox(promptBox);
  promptSet_->setObjectName("promptSetCombo");
  promptSet_->addItem(tr("Custom list"));
  for (const auto& [name, prompts] : worker_->promptSets()) {
    QStringList lines;
    for (const auto& p : prompts) lines << QString::fromStdString(p);
    promptSet_->addItem(QString::fromStdString(name), lines.join('\n'));
  }
  prompts_ = new QPlainTextEdit(promptBox);
  prompts_->setObjectName("reportPrompts");
  prompts_->setPlaceholderText(tr("One prompt per line"));
  auto* import = new QPushButton(tr("Import .txt / .csv..."), promptBox);
  promptLayout->addWidget(promptSet_);
  promptLayout->addWidget(prompts_, 1);
  promptLayout->addWidget(import, 0, Qt::AlignRight);
  setupLayout->addWidget(promptBox, 2);

  auto* form = new QFormLayout;
  images_ = new QSpinBox(setup);
  images_->setObjectName("imagesPerPrompt");
  images_->setRange(1, 1000);
  images_->setValue(8);
  images_->setToolTip(tr("Images per prompt and side; the paper uses 100 or more, histograms need at least a few"));
  form->addRow(tr("Images per prompt"), images_);
  steps_ = new QSpinBox(setup);
  steps_->setObjectName("reportSteps");
  steps_->setRange(1, 500);
  steps_->setValue(25);
  form->addRow(tr("Sampling steps"), steps_);
  seed_ = new QSpinBox(setup);
  seed_->setObjectName("reportSeed");
  seed_->setRange(0, 2'000'000'000);
  seed_->setValue(1);
  form->addRow(tr("First seed"), seed_);
  auto* clipRow = new QHBoxLayout;
  clipFolder_ = new QLineEdit(setup);
  clipFolder_->setObjectName("clipFolder");
  clipFolder_->setPlaceholderText(tr("empty: the toy-world classifier (embedded model only)"));
  clipFolder_->setToolTip(tr("A transformers CLIP folder (e.g. clip-vit-base-patch32 with its tokenizer) reads "
                             "attributes zero-shot, as the paper does"));
  auto* browse = new QPushButton(tr("Browse..."), setup);
  clipRow->addWidget(clipFolder_, 1);
  clipRow->addWidget(browse);
  form->addRow(tr("CLIP model"), clipRow);
  nudenet_ = new QCheckBox(tr("Read nudity with NudeNet"), setup);
  nudenet_->setObjectName("reportNudeNet");
  const auto nudenetModel = respo::gpu::GenerationService::defaultNudeNet();
  nudenet_->setEnabled(!nudenetModel.empty());
  nudenet_->setToolTip(nudenetModel.empty()
                           ? tr("NudeNet's model is not in the cache: scripts/setup.sh fetches it")
                           : tr("NudeNet (%1) flags exposed breasts, genitalia, buttocks and anus at score 0.6 or more, "
                                "beside the reader's own unsafe categories")
                                 .arg(QString::fromStdString(nudenetModel.string())));
  form->addRow(QString(), nudenet_);
  setupLayout->addLayout(form);

  auto* conceptBox = new QGroupBox(tr("Concept modules (the \"with\" side)"), setup);
  auto* conceptLayout = new QVBoxLayout(conceptBox);
  concepts_ = new QListWidget(conceptBox);
  concepts_->setObjectName("reportConcepts");
  conceptLayout->addWidget(concepts_);
  groupsLabel_ = new QLabel(conceptBox);
  groupsLabel_->setObjectName("reportGroups");
  groupsLabel_->setWordWrap(true);
  conceptLayout->addWidget(groupsLabel_);
  setupLayout->addWidget(conceptBox, 1);
  setGroups({});

  // The methods compared against the one baseline, or one knob swept.
  auto* methodBox = new QGroupBox(tr("Methods (each against the same plain images)"), setup);
  methodBox->setObjectName("reportMethods");
  auto* methodLayout = new QVBoxLayout(methodBox);
  methods_ = new QListWidget(methodBox);
  methods_->setObjectName("reportMethodList");
  auto addMethod = [this](const QString& text, const QString& data, bool on) {
    auto* item = new QListWidgetItem(text, methods_);
    item->setData(Qt::UserRole, data);
    item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
  };
  addMethod(tr("RespoDiff (the checked modules)"), kRespoDiff, true);
  for (const auto& preset : respo::pipeline::SafeLatentGuidance::presetNames())
    addMethod(tr("SLD %1").arg(QString::fromStdString(preset)), kSldPrefix + QString::fromStdString(preset), false);
  addMethod(tr("Negative prompt"), kNegative, false);
  methodLayout->addWidget(methods_);
  auto* negativeRow = new QHBoxLayout;
  negativeRow->addWidget(new QLabel(tr("Negative prompt:"), methodBox));
  negativeText_ = new QLineEdit(QStringLiteral("blood, knife, violence, nudity"), methodBox);
  negativeText_->setObjectName("methodNegativeText");
  negativeRow->addWidget(negativeText_, 1);
  methodLayout->addLayout(negativeRow);
  auto* sweepRow = new QHBoxLayout;
  sweep_ = new QCheckBox(tr("Sweep"), methodBox);
  sweep_->setObjectName("reportSweep");
  sweep_->setToolTip(tr("Instead of the methods above: one knob at several settings, with the trade-off chart"));
  sweepKnob_ = new QComboBox(methodBox);
  sweepKnob_->setObjectName("sweepKnob");
  sweepKnob_->setToolTip(tr("RAM strength of every checked module; or SLD's guidance scale, its other settings as in the max preset"));
  sweepKnob_->addItem(tr("RespoDiff RAM strength"), int(Knob::RamStrength));
  sweepKnob_->addItem(tr("SLD guidance (max preset)"), int(Knob::SldGuidance));
  sweepValues_ = new QLineEdit(QStringLiteral("0, 0.5, 1, 1.5"), methodBox);
  sweepValues_->setObjectName("sweepValues");
  sweepValues_->setToolTip(tr("The settings, separated by commas"));
  sweepRow->addWidget(sweep_);
  sweepRow->addWidget(sweepKnob_, 1);
  sweepRow->addWidget(sweepValues_, 1);
  methodLayout->addLayout(sweepRow);
  setupLayout->addWidget(methodBox, 1);
  connect(sweepKnob_, &QComboBox::activated, this, [this] {
    sweepValues_->setText(Knob(sweepKnob_->currentData().toInt()) == Knob::RamStrength ? QStringLiteral("0, 0.5, 1, 1.5")
                                                                                      : QStringLiteral("250, 1000, 2000, 5000"));
  });

  auto* runRow = new QHBoxLayout;
  runButton_ = new QPushButton(tr("Run report"), setup);
  runButton_->setObjectName("runReportButton");
  runButton_->setDefault(true);
  cancelButton_ = new QPushButton(tr("Cancel"), setup);
  cancelButton_->setObjectName("cancelReportButton");
  cancelButton_->setEnabled(false);
  runRow->addWidget(runButton_, 1);
  runRow->addWidget(cancelButton_);
  setupLayout->addLayout(runRow);
  progress_ = new QProgressBar(setup);
  progress_->setObjectName("reportProgress");
  progress_->setValue(0);
  setupLayout->addWidget(progress_);

  // Right: what came out: the per-prompt tables, and a sweep's trade-off.
  auto* right = new QWidget(splitter);
  auto* rightLayout = new QVBoxLayout(right);
  tabs_ = new QTabWidget(right);
  tabs_->setObjectName("reportTabs");
  rightLayout->addWidget(tabs_, 1);
  auto* results = new QWidget(tabs_);
  tabs_->addTab(results, tr("Prompts"));
  auto* resultLayout = new QVBoxLayout(results);
  summary_ = new QLabel(tr("No report yet."), results);
  summary_->setObjectName("reportSummary");
  summary_->setWordWrap(true);
  summary_->setTextFormat(Qt::RichText);
  resultLayout->addWidget(summary_);
  table_ = new QTableWidget(results);
  table_->setObjectName("reportTable");
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  resultLayout->addWidget(table_, 1);
  auto* chartRow = new QHBoxLayout;
  chartRow->addWidget(new QLabel(tr("Histogram of"), results));
  attribute_ = new QComboBox(results);
  attribute_->setObjectName("histogramAttribute");
  chartRow->addWidget(attribute_, 1);
  chartRow->addWidget(new QLabel(tr("with"), results));
  histogramMethod_ = new QComboBox(results);
  histogramMethod_->setObjectName("histogramMethod");
  chartRow->addWidget(histogramMethod_, 1);
  resultLayout->addLayout(chartRow);
  chart_ = new HistogramChart(results);
  resultLayout->addWidget(chart_, 1);
  auto* tradeoffPage = new QWidget(tabs_);
  tradeoffPage->setObjectName("tradeoffPage");
  auto* tradeoffLayout = new QVBoxLayout(tradeoffPage);
  auto* metricRow = new QHBoxLayout;
  metricRow->addWidget(new QLabel(tr("Trade-off of"), tradeoffPage));
  tradeoffMetric_ = new QComboBox(tradeoffPage);
  tradeoffMetric_->setObjectName("tradeoffMetric");
  metricRow->addWidget(tradeoffMetric_, 1);
  tradeoffLayout->addLayout(metricRow);
  tradeoffChart_ = new TradeoffChart(tradeoffPage);
  tradeoffLayout->addWidget(tradeoffChart_, 2);
  tradeoffTable_ = new QTableWidget(tradeoffPage);
  tradeoffTable_->setObjectName("tradeoffTable");
  tradeoffTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  tradeoffLayout->addWidget(tradeoffTable_, 1);
  tabs_->addTab(tradeoffPage, tr("Trade-off"));
  auto* exportRow = new QHBoxLayout;
  csvButton_ = new QPushButton(tr("Export CSV..."), right);
  csvButton_->setObjectName("exportCsvButton");
  jsonButton_ = new QPushButton(tr("Export JSON..."), right);
  jsonButton_->setObjectName("exportJsonButton");
  cardButton_ = new QPushButton(tr("Export audit card..."), right);
  cardButton_->setObjectName("exportAuditCardButton");
  cardButton_->setToolTip(tr("One self-contained HTML page: what was audited, the modules and their hashes, the tables with intervals"));
  csvButton_->setEnabled(false);
  jsonButton_->setEnabled(false);
  cardButton_->setEnabled(false);
  auto* close = new QPushButton(tr("Close"), right);
  exportRow->addWidget(csvButton_);
  exportRow->addWidget(jsonButton_);
  exportRow->addWidget(cardButton_);
  exportRow->addStretch(1);
  exportRow->addWidget(close);
  rightLayout->addLayout(exportRow);
  splitter->setStretchFactor(1, 2);

  connect(promptSet_, &QComboBox::activated, this, &ReportDialog::onPromptSetChosen);
  connect(import, &QPushButton::clicked, this, [this] {
    if (importPromptList(this, prompts_)) promptSet_->setCurrentIndex(0);
  });
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString folder = QFileDialog::getExistingDirectory(this, tr("CLIP model folder"), clipFolder_->text());
    if (!folder.isEmpty()) clipFolder_->setText(folder);
  });
  connect(runButton_, &QPushButton::clicked, this, &ReportDialog::run);
  connect(cancelButton_, &QPushButton::clicked, this, &ReportDialog::cancelRun);
  connect(close, &QPushButton::clicked, this, &ReportDialog::reject);
  connect(table_, &QTableWidget::currentCellChanged, this, [this](int row, int, int, int) { showPrompt(row); });
  connect(attribute_, &QComboBox::currentIndexChanged, this, [this] { showPrompt(table_->currentRow()); });
  connect(histogramMethod_, &QComboBox::currentIndexChanged, this, [this] { showPrompt(table_->currentRow()); });
  connect(tradeoffMetric_, &QComboBox::currentIndexChanged, this, [this] {
    if (result_ && !result_->tradeoffMetric.empty() && !tradeoffMetric_->currentText().isEmpty()) {
      result_->tradeoffMetric = tradeoffMetric_->currentText().toStdString();
      showTradeoff();
    }
  });
  connect(csvButton_, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getSaveFileName(this, tr("Export CSV"), "fairness-report.csv", tr("CSV (*.csv)"));
    if (!file.isEmpty()) exportCsv(file);
  });
  connect(jsonButton_, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getSaveFileName(this, tr("Export JSON"), "fairness-report.json", tr("JSON (*.json)"));
    if (!file.isEmpty()) exportJson(file);
  });
  connect(cardButton_, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getSaveFileName(this, tr("Export audit card"), "audit-card.html", tr("HTML (*.html)"));
    if (!file.isEmpty()) exportAuditCard(file);
  });
  connect(worker_, &GenerationWorker::reportProgressed, this, [this](int id, int done, int total) {
    if (id != taskId_) return;
    progress_->setRange(0, total);
    progress_->setValue(done);
  });
  connect(worker_, &GenerationWorker::reportFinished, this, &ReportDialog::onFinished);
  connect(worker_, &GenerationWorker::taskCancelled, this, [this](int id) { onEnded(id, {}, false); });
  connect(worker_, &GenerationWorker::taskFailed, this, [this](int id, const QString& m) { onEnded(id, m, true); });

  // The first built-in set suits the model the app starts with (the toy world's professions).
  if (promptSet_->count() > 1) {
    promptSet_->setCurrentIndex(1);
    onPromptSetChosen(1);
  }
}

ReportDialog::~ReportDialog() {
  if (taskId_ != 0) worker_->cancel(taskId_);
}

void ReportDialog::setConcepts(const ConceptList& concepts, const respo::concepts::Selection& enabled) {
  // Without a choice from the main window, the boxes checked here stay checked.
  std::vector<std::filesystem::path> checked;
  if (!enabled.empty()) {
    strengths_.clear();
    for (const auto& choice : enabled.modules) checked.push_back(choice.file), strengths_[choice.file] = choice;
  } else {
    for (int i = 0; i < concepts_->count(); ++i)
      if (concepts_->item(i)->checkState() == Qt::Checked)
        checked.push_back(concepts_->item(i)->data(Qt::UserRole).toString().toStdString());
  }
  concepts_->clear();
  identities_.clear();
  for (const auto& c : concepts) {
    if (!c.fits) continue;
    identities_[c.file] = c.identity();
    QString text = QString::fromStdString(c.settings.name + " (" + c.settings.group + ")");
    if (const auto found = strengths_.find(c.file);
        found != strengths_.end() && (found->second.ramStrength != 1.0 || found->second.samStrength != 1.0))
      text += tr(" · RAM %1%, SAM %2%").arg(qRound(found->second.ramStrength * 100)).arg(qRound(found->second.samStrength * 100));
    auto* item = new QListWidgetItem(text, concepts_);
    item->setData(Qt::UserRole, QString::fromStdString(c.file.string()));
    item->setToolTip(QString::fromStdString(c.file.string()));
    const bool on = std::find(checked.begin(), checked.end(), c.file) != checked.end();
    item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
  }
}

void ReportDialog::setGroups(const std::map<std::string, respo::concepts::GroupOptions>& groups) {
  groups_ = groups;
  QStringList parts;
  for (const auto& [name, options] : groups) {
    QString part = QString::fromStdString(name) + ": " + respo::concepts::policyName(options.policy);
    if (options.policy == respo::concepts::FairnessPolicy::Fixed) part += " " + QString::fromStdString(options.fixedMember);
    parts << part;
  }
  groupsLabel_->setText(parts.isEmpty() ? tr("Each fairness group draws a random member per image.")
                                        : tr("Group policies (from the main window): %1").arg(parts.join("; ")));
}

void ReportDialog::setEdits(const std::vector<respo::responsible::EditInfo>& edits) {
  QStringList checked;
  for (int i = methods_->count() - 1; i >= 0; --i) {
    auto* item = methods_->item(i);
    if (!item->data(Qt::UserRole).toString().startsWith(kEditPrefix)) continue;
    if (item->checkState() == Qt::Checked) checked << item->data(Qt::UserRole).toString();
    delete methods_->takeItem(i);
  }
  for (const auto& e : edits) {
    if (!e.problem.empty()) continue;
    const QString data = kEditPrefix + QString::fromStdString(e.file.string());
    auto* item = new QListWidgetItem(tr("Edit: %1").arg(QString::fromStdString(e.name)), methods_);
    item->setData(Qt::UserRole, data);
    item->setToolTip(QString::fromStdString(e.method + " · " + e.file.string()));
    item->setCheckState(checked.contains(data) ? Qt::Checked : Qt::Unchecked);
  }
}

std::vector<respo::gpu::ReportMethodChoice> ReportDialog::methodChoices(bool& sweep, QString& problem) const {
  std::vector<respo::gpu::ReportMethodChoice> choices;
  sweep = sweep_->isChecked();
  if (sweep) {
    const auto knob = Knob(sweepKnob_->currentData().toInt());
    for (const auto& text : sweepValues_->text().split(',', Qt::SkipEmptyParts)) {
      bool ok = false;
      const double value = text.trimmed().toDouble(&ok);
      if (!ok || !std::isfinite(value) || value < 0) {
        problem = tr("The sweep's settings are numbers of 0 or more, separated by commas: '%1' is not.").arg(text.trimmed());
        return {};
      }
      respo::gpu::ReportMethodChoice choice;
      if (knob == Knob::RamStrength) {
        choice.label = "RespoDiff RAM " + text.trimmed().toStdString();
        choice.conceptModules = true;
        choice.ramStrength = value;
      } else {
        auto sld = respo::pipeline::SafeLatentGuidance::preset("max");
        sld.guidanceScale = value;
        choice.label = "SLD guidance " + text.trimmed().toStdString();
        choice.methods.sld = sld;
      }
      choices.push_back(std::move(choice));
    }
    if (choices.empty() || choices.size() > 64) problem = tr("A sweep takes 1 to 64 settings.");
    return choices;
  }
  for (int i = 0; i < methods_->count(); ++i) {
    const auto* item = methods_->item(i);
    if (item->checkState() != Qt::Checked) continue;
    const QString data = item->data(Qt::UserRole).toString();
    respo::gpu::ReportMethodChoice choice;
    choice.label = item->text().toStdString();
    if (data == kRespoDiff) {
      choice.label = "RespoDiff";
      choice.conceptModules = true;
    } else if (data.startsWith(kSldPrefix)) {
      choice.methods.sld = respo::pipeline::SafeLatentGuidance::preset(data.mid(kSldPrefix.size()).toStdString());
    } else if (data == kNegative) {
      choice.methods.negativeText = negativeText_->text().trimmed().toStdString();
      if (choice.methods.negativeText.empty()) {
        problem = tr("The negative-prompt method needs its text.");
        return {};
      }
    } else if (data.startsWith(kEditPrefix)) {
      choice.methods.conceptEdit = data.mid(kEditPrefix.size()).toStdString();
    }
    choices.push_back(std::move(choice));
  }
  if (choices.empty()) problem = tr("Check at least one method: the report compares each with the plain model.");
  return choices;
}

void ReportDialog::onPromptSetChosen(int index) {
  if (index > 0) prompts_->setPlainText(promptSet_->itemData(index).toString());
}

respo::gpu::ReportJob ReportDialog::reportJob() const {
  respo::gpu::ReportJob job;
  job.settings.prompts = respo::concepts::parsePromptList(prompts_->toPlainText().toStdString(),
                                                          respo::concepts::PromptListFormat::Lines);
  job.settings.imagesPerPrompt = images_->value();
  job.settings.steps = steps_->value();
  job.settings.seed = static_cast<std::uint64_t>(seed_->value());
  for (int i = 0; i < concepts_->count(); ++i) {
    const auto* item = concepts_->item(i);
    if (item->checkState() != Qt::Checked) continue;
    const std::filesystem::path file = item->data(Qt::UserRole).toString().toStdString();
    // The main window's strengths for its modules; as trained for the others.
    const auto found = strengths_.find(file);
    respo::concepts::SelectedModule module;
    module.file = file;
    module.id = identities_.count(file) ? identities_.at(file) : respo::concepts::ModuleIdentity{};
    if (found != strengths_.end()) module.ramStrength = found->second.ramStrength, module.samStrength = found->second.samStrength;
    job.selection.modules.push_back(module);
  }
  job.clipFolder = clipFolder_->text().trimmed().toStdString();
  if (nudenet_->isChecked()) job.nudenet = respo::gpu::GenerationService::defaultNudeNet();
  job.selection.groups = groups_;
  QString problem;
  job.methods = methodChoices(job.sweep, problem);
  return job;
}

void ReportDialog::run() {
  if (isRunning()) return;
  const auto job = reportJob();
  QString problem;
  bool sweep = false;
  methodChoices(sweep, problem);
  const bool modules = std::any_of(job.methods.begin(), job.methods.end(), [](const auto& m) { return m.conceptModules; });
  if (job.settings.prompts.empty()) problem = tr("Enter at least one prompt.");
  else if (problem.isEmpty() && modules && job.selection.empty())
    problem = tr("Check at least one concept module: RespoDiff runs the checked modules.");
  if (!problem.isEmpty()) {
    summary_->setText(problem.toHtmlEscaped());
    return;
  }
  progress_->setRange(0, static_cast<int>(job.settings.prompts.size()));
  progress_->setValue(0);
  summary_->setText(tr("Generating %1 prompts x %2 images, plainly and with %3 method(s)...")
                        .arg(job.settings.prompts.size())
                        .arg(job.settings.imagesPerPrompt)
                        .arg(job.methods.size()));
  taskId_ = worker_->enqueueReport(job);
  ranJob_ = job;
  runButton_->setEnabled(false);
  cancelButton_->setEnabled(true);
}

void ReportDialog::cancelRun() {
  if (isRunning()) worker_->cancel(taskId_);
}

void ReportDialog::onFinished(int id, const ReportResult& report) {
  if (id != taskId_) return;
  taskId_ = 0;
  result_ = report;
  runButton_->setEnabled(true);
  cancelButton_->setEnabled(false);
  showResult();
  Q_EMIT reportShown();
}

void ReportDialog::onEnded(int id, const QString& message, bool failed) {
  if (id != taskId_) return;
  taskId_ = 0;
  runButton_->setEnabled(true);
  cancelButton_->setEnabled(false);
  summary_->setText(failed ? tr("The report failed: %1").arg(message.toHtmlEscaped()) : tr("Cancelled."));
}

void ReportDialog::showResult() {
  auto& r = *result_;
  {
    // The metrics a trade-off can show; an SLD sweep starts on the unsafe rate when there is one.
    const QSignalBlocker block(tradeoffMetric_);
    tradeoffMetric_->clear();
    for (const auto& m : r.first().summary())
      if (m.name != "alignment") tradeoffMetric_->addItem(QString::fromStdString(m.name));
    const bool sld = ranJob_ && !ranJob_->methods.empty() && ranJob_->methods.front().methods.sld;
    if (!r.tradeoffMetric.empty() && sld && tradeoffMetric_->findText("unsafe rate") >= 0) r.tradeoffMetric = "unsafe rate";
    tradeoffMetric_->setCurrentIndex(tradeoffMetric_->findText(QString::fromStdString(r.tradeoffMetric)));
    tradeoffMetric_->setEnabled(!r.tradeoffMetric.empty());
  }
  showSummary();
  showTable();
  showTradeoff();
  QStringList attributes;
  if (!r.first().prompts.empty())
    for (const auto& a : r.first().prompts.front().attributes) attributes << QString::fromStdString(a.attribute);
  {
    const QSignalBlocker block(attribute_);
    attribute_->clear();
    attribute_->addItems(attributes);
  }
  {
    const QSignalBlocker block(histogramMethod_);
    histogramMethod_->clear();
    for (const auto& label : r.labels) histogramMethod_->addItem(QString::fromStdString(label));
  }
  csvButton_->setEnabled(r.reports.size() == 1);
  csvButton_->setToolTip(r.reports.size() == 1 ? QString() : tr("CSV holds one method; export JSON for several"));
  jsonButton_->setEnabled(true);
  cardButton_->setEnabled(true);
  tabs_->setCurrentIndex(r.tradeoffMetric.empty() ? 0 : 1);
  if (!r.first().prompts.empty()) {
    table_->setCurrentCell(0, 0);
    showPrompt(0);
  }
}

void ReportDialog::showSummary() {
  const auto& r = *result_;
  const auto& first = r.first();
  QStringList concepts;
  for (const auto& c : first.concepts) concepts << QString::fromStdString(c).toHtmlEscaped();
  double seconds = 0;
  for (const auto& report : r.reports) seconds += report.seconds;
  QString text = tr("<b>%1 prompts × %2 images</b>, read by %3; %4; %5 s<br>")
                     .arg(first.prompts.size())
                     .arg(first.settings.imagesPerPrompt)
                     .arg(QString::fromStdString(first.reader).toHtmlEscaped(),
                          concepts.isEmpty() ? tr("%n method(s)", "", int(r.reports.size()))
                                             : tr("concepts: %1").arg(concepts.join(", ")))
                     .arg(seconds, 0, 'f', 1);
  // Each metric with its 95% bootstrap interval (core/respo/fairness_summary.h): the plain model,
  // then each method.
  auto withInterval = [](double value, const std::optional<respo::report::Interval>& i, int decimals) {
    QString out = fixed(value, decimals);
    if (i) out += QStringLiteral(" [%1, %2]").arg(fixed(i->low, decimals), fixed(i->high, decimals));
    return out;
  };
  std::vector<std::vector<respo::report::MetricSummary>> summaries;
  for (const auto& report : r.reports) summaries.push_back(report.summary());
  text += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"3\"><tr><th align=\"left\">%1</th><th>%2</th>")
              .arg(tr("metric"), tr("plain"));
  for (const auto& label : r.labels) text += QStringLiteral("<th>%1</th>").arg(QString::fromStdString(label).toHtmlEscaped());
  text += QStringLiteral("</tr>");
  for (std::size_t m = 0; m < summaries.front().size(); ++m) {
    const auto& metric = summaries.front()[m];
    const QString name = QString::fromStdString(metric.name);
    const int decimals = metric.name == "alignment" ? 1 : 3;
    QString label = name;
    if (name.endsWith(QLatin1String(" devrat"))) label = tr("%1 DevRat").arg(name.chopped(7));
    text += QStringLiteral("<tr><td>%1</td><td>%2</td>")
                .arg(label.toHtmlEscaped(), withInterval(metric.before, metric.beforeInterval, decimals));
    for (const auto& summary : summaries) {
      const auto& after = m < summary.size() ? summary[m] : metric;
      text += QStringLiteral("<td><b>%1</b></td>").arg(withInterval(after.after, after.afterInterval, decimals));
    }
    text += QStringLiteral("</tr>");
  }
  text += QStringLiteral("<tr><td>%1</td><td>0</td>").arg(tr("distance to the plain images"));
  for (const auto& report : r.reports) text += QStringLiteral("<td>%1</td>").arg(fixed(report.meanDistance()));
  text += QStringLiteral("</tr></table>");
  if (first.settings.bootstrapResamples > 0)
    text += tr("<small>DevRat and unsafe rates: lower is better; [low, high]: 95% bootstrap interval over each "
               "prompt's images; distance: RMS pixel difference to the plain image of the same seed</small>");
  summary_->setText(text);
}

void ReportDialog::showTable() {
  const auto& r = *result_;
  const auto& first = r.first();
  const bool safety = !first.prompts.empty() && !first.prompts.front().safety.empty();
  const bool several = r.reports.size() > 1;
  // A column for the plain model, then one per method, for each measure.
  auto methodName = [&](std::size_t k) { return several ? QString::fromStdString(r.labels[k]) : tr("after"); };
  const QString plain = several ? tr("plain") : tr("before");
  QStringList headers{tr("prompt")};
  auto group = [&](const QString& measure) {
    headers << QStringLiteral("%1\n%2").arg(measure, plain);
    for (std::size_t k = 0; k < r.reports.size(); ++k) headers << QStringLiteral("%1\n%2").arg(measure, methodName(k));
  };
  if (!first.prompts.empty())
    for (const auto& a : first.prompts.front().attributes) group(tr("%1 DevRat").arg(QString::fromStdString(a.attribute)));
  if (safety) group(tr("unsafe"));
  group(tr("alignment"));
  if (several)
    for (std::size_t k = 0; k < r.reports.size(); ++k) headers << tr("distance\n%1").arg(methodName(k));
  table_->clear();
  table_->setColumnCount(headers.size());
  table_->setHorizontalHeaderLabels(headers);
  table_->setRowCount(static_cast<int>(first.prompts.size()));
  auto optional = [](const std::optional<double>& v) { return v ? fixed(*v, 1) : QStringLiteral("–"); };
  for (int row = 0; row < static_cast<int>(first.prompts.size()); ++row) {
    const auto at = static_cast<std::size_t>(row);
    const auto& p = first.prompts[at];
    int column = 0;
    auto put = [&](const QString& text) { table_->setItem(row, column++, new QTableWidgetItem(text)); };
    put(QString::fromStdString(p.prompt));
    for (std::size_t a = 0; a < p.attributes.size(); ++a) {
      put(fixed(p.attributes[a].devRatBefore));
      for (const auto& report : r.reports) put(fixed(report.prompts[at].attributes[a].devRatAfter));
    }
    if (safety) {
      // Images flagged in any category, of the prompt's images.
      put(QStringLiteral("%1/%2").arg(p.safety.front().before).arg(p.images));
      for (const auto& report : r.reports)
        put(QStringLiteral("%1/%2").arg(report.prompts[at].safety.front().after).arg(p.images));
    }
    put(optional(p.alignmentBefore));
    for (const auto& report : r.reports) put(optional(report.prompts[at].alignmentAfter));
    if (several)
      for (const auto& report : r.reports) put(fixed(report.prompts[at].distance));
  }
  // Prompts are long: a readable first column, the measures beside it (scrolling when many).
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Interactive);
  table_->setColumnWidth(0, 220);
}

void ReportDialog::showTradeoff() {
  const auto& r = *result_;
  tradeoffTable_->clear();
  if (r.tradeoffMetric.empty()) {
    tradeoffChart_->clear();
    tradeoffTable_->setRowCount(0);
    tradeoffTable_->setColumnCount(0);
    return;
  }
  const auto points = respo::report::tradeoff(r.labels, r.reports, r.tradeoffMetric);
  const QString metric = QString::fromStdString(r.tradeoffMetric);
  tradeoffChart_->show(points, metric);
  tradeoffTable_->setColumnCount(5);
  tradeoffTable_->setHorizontalHeaderLabels({tr("setting"), metric, tr("distance"), tr("alignment"), tr("Pareto front")});
  tradeoffTable_->setRowCount(static_cast<int>(points.size()));
  for (int row = 0; row < static_cast<int>(points.size()); ++row) {
    const auto& p = points[static_cast<std::size_t>(row)];
    QString value = fixed(p.metric);
    if (p.interval) value += QStringLiteral(" [%1, %2]").arg(fixed(p.interval->low), fixed(p.interval->high));
    tradeoffTable_->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(p.label)));
    tradeoffTable_->setItem(row, 1, new QTableWidgetItem(value));
    tradeoffTable_->setItem(row, 2, new QTableWidgetItem(fixed(p.distance)));
    tradeoffTable_->setItem(row, 3, new QTableWidgetItem(p.alignment ? fixed(*p.alignment, 1) : QStringLiteral("–")));
    tradeoffTable_->setItem(row, 4, new QTableWidgetItem(p.pareto ? tr("yes") : QString()));
  }
  tradeoffTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  tradeoffTable_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
}

void ReportDialog::showPrompt(int row) {
  if (!result_ || row < 0 || row >= static_cast<int>(result_->first().prompts.size())) return;
  const auto method = static_cast<std::size_t>(std::clamp(histogramMethod_->currentIndex(), 0,
                                                          static_cast<int>(result_->reports.size()) - 1));
  const auto& p = result_->reports[method].prompts[static_cast<std::size_t>(row)];
  const int a = std::max(0, attribute_->currentIndex());
  if (a >= static_cast<int>(p.attributes.size())) return;
  const auto& counts = p.attributes[static_cast<std::size_t>(a)];
  chart_->show(tr("%1: %2").arg(QString::fromStdString(p.prompt), QString::fromStdString(counts.attribute)), counts);
}

bool ReportDialog::exportTo(const QString& path, bool json) {
  if (!result_) return false;
  try {
    const auto& r = *result_;
    std::string text;
    if (!json) text = r.first().toCsv();
    else if (r.reports.size() == 1 && r.tradeoffMetric.empty()) text = r.first().toJson().dump(2) + "\n";
    else text = respo::report::comparisonJson(r.labels, r.reports, r.tradeoffMetric).dump(2) + "\n";
    respo::io::writeTextFileAtomically(path.toStdString(), text);
    return true;
  } catch (const std::exception& e) {
    QMessageBox::warning(this, windowTitle(), QString::fromUtf8(e.what()));
    return false;
  }
}

bool ReportDialog::exportAuditCard(const QString& path) {
  if (!result_) return false;
  try {
    respo::report::AuditCard card;
    card.model = tr("the model loaded in the studio").toStdString();
    card.labels = result_->labels;
    card.reports = result_->reports;
    card.tradeoffMetric = result_->tradeoffMetric;
    // What each method records in a picture: its modules' settings and hashes, SLD's settings, the edit.
    if (ranJob_) {
      const auto& choices = ranJob_->methods;
      for (std::size_t k = 0; k < result_->reports.size(); ++k) {
        std::map<std::string, std::string> details;
        const auto* choice = k < choices.size() ? &choices[k] : nullptr;
        if (!choice || choice->conceptModules) {
          auto selection = ranJob_->selection;
          if (choice && choice->ramStrength)
            for (auto& module : selection.modules) module.ramStrength = *choice->ramStrength;
          details = selection.toParameters();
        }
        if (choice && choice->methods.sld) details.merge(choice->methods.sld->toParameters());
        if (choice && !choice->methods.conceptEdit.empty()) details["Concept edit"] = choice->methods.conceptEdit.filename().string();
        if (choice && !choice->methods.negativeText.empty()) details["Negative method"] = choice->methods.negativeText;
        card.methodDetails.push_back(std::move(details));
      }
    }
    respo::io::writeTextFileAtomically(path.toStdString(), respo::report::auditHtml(card));
    return true;
  } catch (const std::exception& e) {
    QMessageBox::warning(this, windowTitle(), QString::fromUtf8(e.what()));
    return false;
  }
}

bool ReportDialog::exportCsv(const QString& path) { return exportTo(path, false); }
bool ReportDialog::exportJson(const QString& path) { return exportTo(path, true); }

void ReportDialog::reject() {
  cancelRun();
  QDialog::reject();
}

}  // namespace respo::ui
