#include "ui/report_dialog.h"

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
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>

#include "core/respo/audit_card.h"
#include "core/io/atomic_file.h"
#include "core/respo/prompt_list.h"
#include "ui/histogram_chart.h"
#include "ui/prompt_import.h"

namespace respo::ui {

namespace {

QString fixed(double value, int decimals = 3) { return QString::number(value, 'f', decimals); }

}  // namespace

ReportDialog::ReportDialog(GenerationWorker* worker, QWidget* parent) : QDialog(parent), worker_(worker) {
  setObjectName("reportDialog");
  setWindowTitle(tr("Fairness report"));
  resize(1100, 780);
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

  // Right: what came out.
  auto* results = new QWidget(splitter);
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
  resultLayout->addLayout(chartRow);
  chart_ = new HistogramChart(results);
  resultLayout->addWidget(chart_, 1);
  auto* exportRow = new QHBoxLayout;
  csvButton_ = new QPushButton(tr("Export CSV..."), results);
  csvButton_->setObjectName("exportCsvButton");
  jsonButton_ = new QPushButton(tr("Export JSON..."), results);
  jsonButton_->setObjectName("exportJsonButton");
  cardButton_ = new QPushButton(tr("Export audit card..."), results);
  cardButton_->setObjectName("exportAuditCardButton");
  cardButton_->setToolTip(tr("One self-contained HTML page: what was audited, the modules and their hashes, the tables with intervals"));
  csvButton_->setEnabled(false);
  jsonButton_->setEnabled(false);
  cardButton_->setEnabled(false);
  auto* close = new QPushButton(tr("Close"), results);
  exportRow->addWidget(csvButton_);
  exportRow->addWidget(jsonButton_);
  exportRow->addWidget(cardButton_);
  exportRow->addStretch(1);
  exportRow->addWidget(close);
  resultLayout->addLayout(exportRow);
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
  job.selection.groups = groups_;
  return job;
}

void ReportDialog::run() {
  if (isRunning()) return;
  const auto job = reportJob();
  QString problem;
  if (job.settings.prompts.empty()) problem = tr("Enter at least one prompt.");
  else if (job.selection.empty()) problem = tr("Check at least one concept module: the report compares without and with them.");
  if (!problem.isEmpty()) {
    summary_->setText(problem.toHtmlEscaped());
    return;
  }
  progress_->setRange(0, static_cast<int>(job.settings.prompts.size()));
  progress_->setValue(0);
  summary_->setText(tr("Generating %1 prompts x %2 images, without and with %3 module(s)...")
                        .arg(job.settings.prompts.size())
                        .arg(job.settings.imagesPerPrompt)
                        .arg(job.selection.modules.size()));
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
  const auto& r = *result_;
  QStringList concepts;
  for (const auto& c : r.concepts) concepts << QString::fromStdString(c).toHtmlEscaped();
  QString text = tr("<b>%1 prompts × %2 images</b>, read by %3; concepts: %4; %5 s<br>")
                     .arg(r.prompts.size())
                     .arg(r.settings.imagesPerPrompt)
                     .arg(QString::fromStdString(r.reader).toHtmlEscaped(), concepts.join(", "))
                     .arg(r.seconds, 0, 'f', 1);
  QStringList attributes;
  if (!r.prompts.empty())
    for (const auto& a : r.prompts.front().attributes) attributes << QString::fromStdString(a.attribute);
  // Each metric with its 95% bootstrap interval (core/respo/fairness_summary.h).
  auto withInterval = [](double value, const std::optional<respo::report::Interval>& i, int decimals) {
    QString out = fixed(value, decimals);
    if (i) out += QStringLiteral(" [%1, %2]").arg(fixed(i->low, decimals), fixed(i->high, decimals));
    return out;
  };
  QStringList metrics;
  for (const auto& m : r.summary()) {
    const QString name = QString::fromStdString(m.name);
    const int decimals = m.name == "alignment" ? 1 : 3;
    QString label = name;
    if (name.endsWith(QLatin1String(" devrat"))) label = tr("%1 DevRat").arg(name.chopped(7));
    metrics << tr("%1 %2 → <b>%3</b>")
                   .arg(label.toHtmlEscaped(), withInterval(m.before, m.beforeInterval, decimals),
                        withInterval(m.after, m.afterInterval, decimals));
  }
  text += metrics.join(QStringLiteral(" · "));
  if (r.settings.bootstrapResamples > 0)
    text += tr("<br><small>DevRat and unsafe rates: lower is better; [low, high]: 95% bootstrap interval over each "
               "prompt's images</small>");
  summary_->setText(text);

  const bool safety = !r.prompts.empty() && !r.prompts.front().safety.empty();
  QStringList headers{tr("prompt")};
  for (const auto& a : attributes) headers << tr("%1\nDevRat before").arg(a) << tr("%1\nDevRat after").arg(a);
  if (safety) headers << tr("unsafe\nbefore") << tr("unsafe\nafter");
  headers << tr("alignment\nbefore") << tr("alignment\nafter");
  table_->clear();
  table_->setColumnCount(headers.size());
  table_->setHorizontalHeaderLabels(headers);
  table_->setRowCount(static_cast<int>(r.prompts.size()));
  for (int row = 0; row < static_cast<int>(r.prompts.size()); ++row) {
    const auto& p = r.prompts[static_cast<std::size_t>(row)];
    int column = 0;
    table_->setItem(row, column++, new QTableWidgetItem(QString::fromStdString(p.prompt)));
    for (const auto& a : p.attributes) {
      table_->setItem(row, column++, new QTableWidgetItem(fixed(a.devRatBefore)));
      table_->setItem(row, column++, new QTableWidgetItem(fixed(a.devRatAfter)));
    }
    if (safety) {
      // Images flagged in any category, of the prompt's images.
      const auto& any = p.safety.front();
      table_->setItem(row, column++, new QTableWidgetItem(QStringLiteral("%1/%2").arg(any.before).arg(p.images)));
      table_->setItem(row, column++, new QTableWidgetItem(QStringLiteral("%1/%2").arg(any.after).arg(p.images)));
    }
    auto optional = [](const std::optional<double>& v) { return v ? fixed(*v, 1) : QStringLiteral("–"); };
    table_->setItem(row, column++, new QTableWidgetItem(optional(p.alignmentBefore)));
    table_->setItem(row, column++, new QTableWidgetItem(optional(p.alignmentAfter)));
  }
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  const QSignalBlocker block(attribute_);
  attribute_->clear();
  attribute_->addItems(attributes);
  csvButton_->setEnabled(true);
  jsonButton_->setEnabled(true);
  cardButton_->setEnabled(true);
  if (!r.prompts.empty()) {
    table_->setCurrentCell(0, 0);
    showPrompt(0);
  }
}

void ReportDialog::showPrompt(int row) {
  if (!result_ || row < 0 || row >= static_cast<int>(result_->prompts.size())) return;
  const auto& p = result_->prompts[static_cast<std::size_t>(row)];
  const int a = std::max(0, attribute_->currentIndex());
  if (a >= static_cast<int>(p.attributes.size())) return;
  const auto& counts = p.attributes[static_cast<std::size_t>(a)];
  chart_->show(tr("%1: %2").arg(QString::fromStdString(p.prompt), QString::fromStdString(counts.attribute)), counts);
}

bool ReportDialog::exportTo(const QString& path, bool json) {
  if (!result_) return false;
  try {
    respo::io::writeTextFileAtomically(path.toStdString(), json ? result_->toJson().dump(2) + "\n" : result_->toCsv());
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
    card.labels = {"RespoDiff"};
    card.reports = {*result_};
    if (ranJob_) card.methodDetails = {ranJob_->selection.toParameters()};
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
