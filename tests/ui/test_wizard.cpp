// The training wizard and the fairness report on the embedded toy model, through their widgets:
// a short "a man" module is trained, paused, the wizard closed and reopened (as after restarting
// the app), the run resumed from its checkpoint and finished; the module appears in the concept
// panel under its group; the report shows more men with it than without on female-biased prompts,
// and exports CSV and JSON.
//
// With RESPODIFF_SCREENSHOT_DIR set, the wizard's training page and the report are saved there as
// wizard-training.png and fairness-report.png (scripts/screenshot-studio.sh does this).
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QProgressBar>
#include <QRadioButton>
#include <QTimer>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/support/studio_testing.h"
#include "ui/concept_panel.h"
#include "ui/parameter_form.h"
#include "ui/main_window.h"
#include "ui/report_dialog.h"
#include "ui/tradeoff_chart.h"
#include "ui/training_wizard.h"

using respo::ui::MainWindow;
using respo::ui::ReportDialog;
using respo::ui::TrainingWizard;

namespace {
constexpr int kTimeoutMs = 300000;
const QString kName = "a man (wizard test)";
constexpr int kSteps = 40;

int countOf(const respo::report::AttributeCounts& counts, const std::string& name, bool after) {
  for (std::size_t i = 0; i < counts.classes.size(); ++i)
    if (counts.classes[i] == name) return after ? counts.after[i] : counts.before[i];
  return -1;
}

void saveScreenshot(QWidget* widget, const QString& name) {
  const QByteArray dir = qgetenv("RESPODIFF_SCREENSHOT_DIR");
  if (dir.isEmpty()) return;
  QTest::qWait(200);  // let the charts lay out
  QVERIFY(widget->grab().save(QDir(QString::fromLocal8Bit(dir)).filePath(name)));
}
}  // namespace

class TestWizard : public QObject {
  Q_OBJECT
  QTemporaryDir home_;
  std::unique_ptr<MainWindow> window_;
  int pausedAt_ = 0;

  TrainingWizard* openWizard() {
    window_->openTrainingWizard();
    auto* wizard = window_->trainingWizard();
    if (wizard && !QTest::qWaitForWindowExposed(wizard)) return nullptr;
    return wizard;
  }

  // Picks a preset in the combo box the way a click does; false when the preset is not listed.
  static bool choosePreset(TrainingWizard* wizard, const char* name) {
    auto* preset = wizard->findChild<QComboBox*>("presetCombo");
    const int index = preset->findData(name);
    if (index <= 0) return false;
    preset->setCurrentIndex(index);
    Q_EMIT preset->activated(index);
    return true;
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(home_.isValid());
    respo::testing::isolateUserFolders(home_, "RespoDiffWizardTests");
    window_ = respo::testing::openStudio(home_.filePath("pictures"), kTimeoutMs);
    QVERIFY(window_);
  }

  void cleanupTestCase() { window_.reset(); }

  void pagesRefuseIncompleteInput() {
    auto* wizard = openWizard();
    QVERIFY(wizard);
    wizard->restart();
    auto* name = wizard->findChild<QLineEdit*>("conceptName");
    name->clear();
    // A message box explains the refusal; close it as soon as it shows.
    QTimer::singleShot(100, [] {
      if (auto* box = qobject_cast<QWidget*>(QApplication::activeModalWidget())) box->close();
    });
    wizard->next();
    QCOMPARE(wizard->currentId(), int(TrainingWizard::ConceptPage));
    QVERIFY(!wizard->settings().validate().empty());
  }

  void trainsPausesAndResumesAfterReopening() {
    auto* wizard = openWizard();
    QVERIFY(wizard);
    wizard->restart();
    QVERIFY(choosePreset(wizard, "gender-man"));
    QVERIFY(wizard->findChild<QRadioButton*>("fairnessRadio")->isChecked());
    auto* name = wizard->findChild<QLineEdit*>("conceptName");
    name->clear();
    QTest::keyClicks(name, kName);
    QVERIFY(wizard->validateCurrentPage());
    wizard->next();
    QCOMPARE(wizard->currentId(), int(TrainingWizard::PromptsPage));
    // The preset's target is its name; this module steers towards "a man".
    wizard->findChild<QPlainTextEdit*>("targetPrompts")->setPlainText("a man");
    QCOMPARE(wizard->findChild<QPlainTextEdit*>("neutralPrompts")->toPlainText(), QString("a person"));
    wizard->next();
    QCOMPARE(wizard->currentId(), int(TrainingWizard::SettingsPage));
    wizard->findChild<QSpinBox*>("steps")->setValue(kSteps);
    wizard->findChild<QDoubleSpinBox*>("ramLearningRate")->setValue(0.1);
    wizard->findChild<QSpinBox*>("checkpointEvery")->setValue(10);
    wizard->findChild<QSpinBox*>("previewEvery")->setValue(20);
    wizard->next();
    QCOMPARE(wizard->currentId(), int(TrainingWizard::TrainingPage));
    const auto job = wizard->trainingJob();
    QCOMPARE(job.settings.name, kName.toStdString());
    QCOMPARE(job.settings.group, std::string("gender"));
    QCOMPARE(job.settings.targetPrompt, std::string("a man"));
    QVERIFY(QString::fromStdString(job.output.string()).startsWith(home_.filePath("data")));

    // Train, then pause once a checkpoint has been written.
    auto* worker = window_->worker();
    QSignalSpy progressed(worker, &respo::ui::GenerationWorker::trainingProgressed);
    QSignalSpy cancelled(worker, &respo::ui::GenerationWorker::taskCancelled);
    QTest::mouseClick(wizard->findChild<QPushButton*>("trainButton"), Qt::LeftButton);
    QVERIFY(wizard->isTraining());
    QVERIFY(QTest::qWaitFor([&] { return wizard->findChild<QProgressBar*>("trainingProgress")->value() >= 12; }, kTimeoutMs));
    QTest::mouseClick(wizard->findChild<QPushButton*>("pauseButton"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return !cancelled.isEmpty(); }, kTimeoutMs));
    QTRY_VERIFY(!wizard->isTraining());
    // The first update carries the baseline and current previews.
    QVERIFY(!progressed.isEmpty());
    const auto first = progressed.front().at(1).value<respo::ui::TrainingStatus>();
    QCOMPARE(first.baseline.size(), 2);
    QCOMPARE(first.current.size(), 2);
    auto* chart = wizard->findChild<QChartView*>("lossChart");
    QVERIFY(chart);
    const auto series = chart->chart()->series();
    QCOMPARE(series.size(), 2);
    QVERIFY(static_cast<QLineSeries*>(series.front())->count() >= 12);

    const auto unfinished = worker->unfinishedTrainings();
    QCOMPARE(int(unfinished.size()), 1);
    pausedAt_ = unfinished.front().stepsDone;
    QVERIFY2(pausedAt_ >= 12 && pausedAt_ < kSteps, qPrintable(QString::number(pausedAt_)));
    QCOMPARE(unfinished.front().settings.name, kName.toStdString());
    QVERIFY(!QFileInfo::exists(QString::fromStdString(job.output.string())));

    // As after closing the app: a new wizard finds the run and resumes it from its checkpoint.
    wizard->reject();
    delete wizard;
    wizard = openWizard();
    QVERIFY(wizard);
    auto* list = wizard->findChild<QListWidget*>("unfinishedList");
    QCOMPARE(list->count(), 1);
    QVERIFY(list->item(0)->text().contains(QString("%1 of %2").arg(pausedAt_).arg(kSteps)));
    list->setCurrentRow(0);
    QSignalSpy finished(worker, &respo::ui::GenerationWorker::trainingFinished);
    QSignalSpy saved(wizard, &TrainingWizard::moduleSaved);
    QTest::mouseClick(wizard->findChild<QPushButton*>("resumeUnfinishedButton"), Qt::LeftButton);
    QCOMPARE(wizard->currentId(), int(TrainingWizard::TrainingPage));
    QVERIFY(wizard->isTraining());
    QVERIFY(QTest::qWaitFor([&] { return !finished.isEmpty(); }, kTimeoutMs));
    const auto result = finished.front().at(1).value<respo::ui::TrainingResult>();
    QCOMPARE(result.steps, kSteps);
    QCOMPARE(result.resumedFrom, pausedAt_);
    // The resumed run's chart holds the whole curve: the steps before the pause came from the checkpoint.
    QCOMPARE(static_cast<QLineSeries*>(wizard->findChild<QChartView*>("lossChart")->chart()->series().front())->count(),
             kSteps);
    QCOMPARE(result.file, QString::fromStdString(job.output.string()));
    QVERIFY(QFileInfo::exists(result.file));
    QTRY_COMPARE(saved.count(), 1);
    QVERIFY(worker->unfinishedTrainings().empty());
    QVERIFY(wizard->findChild<QLabel*>("trainingStatus")->text().contains("Saved"));
    QVERIFY(!wizard->findChild<QLabel*>("currentPreview0")->pixmap().isNull());
    saveScreenshot(wizard, "wizard-training.png");

    // The main window lists it at once, in its group.
    QTRY_VERIFY_WITH_TIMEOUT(static_cast<bool>(respo::testing::conceptItem(*window_, kName)), 10000);
    const auto item = respo::testing::conceptItem(*window_, kName);
    QVERIFY(item->parent());
    QCOMPARE(item->parent()->text(0), QString("gender"));
    // The worker's signal can be seen before the wizard has taken the run's end in; Finish while it
    // still trains would open a modal warning, which nothing in a test closes.
    QTRY_VERIFY_WITH_TIMEOUT(!wizard->isTraining(), kTimeoutMs);
    wizard->accept();
  }

  void discardingAnUnfinishedRunDeletesItsCheckpoint() {
    auto* wizard = openWizard();
    wizard->restart();
    QVERIFY(choosePreset(wizard, "violence"));
    QVERIFY(wizard->findChild<QRadioButton*>("safetyRadio")->isChecked());
    QCOMPARE(wizard->settings().group, std::string("safety"));
    QCOMPARE(wizard->settings().negativePrompt, std::string("violence"));
    wizard->findChild<QLineEdit*>("conceptName")->setText("to be discarded");
    while (wizard->currentId() != TrainingWizard::TrainingPage) wizard->next();
    auto* worker = window_->worker();
    QSignalSpy cancelled(worker, &respo::ui::GenerationWorker::taskCancelled);
    QTest::mouseClick(wizard->findChild<QPushButton*>("trainButton"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return wizard->findChild<QProgressBar*>("trainingProgress")->value() >= 1; }, kTimeoutMs));
    QTest::mouseClick(wizard->findChild<QPushButton*>("pauseButton"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return !cancelled.isEmpty(); }, kTimeoutMs));
    QTRY_VERIFY(!wizard->isTraining());
    QVERIFY2(worker->unfinishedTrainings().size() == 1, qPrintable(wizard->findChild<QLabel*>("trainingStatus")->text()));
    wizard->restart();
    auto* list = wizard->findChild<QListWidget*>("unfinishedList");
    QCOMPARE(list->count(), 1);
    list->setCurrentRow(0);
    QTimer::singleShot(100, [] {
      if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) box->button(QMessageBox::Yes)->click();
    });
    QTest::mouseClick(wizard->findChild<QPushButton*>("discardUnfinishedButton"), Qt::LeftButton);
    QVERIFY(worker->unfinishedTrainings().empty());
    QCOMPARE(list->count(), 0);
    wizard->reject();
  }

  void aGenerationAskedForDuringTrainingRunsFirst() {
    auto* wizard = openWizard();
    wizard->restart();
    QVERIFY(choosePreset(wizard, "gender-woman"));
    wizard->findChild<QLineEdit*>("conceptName")->setText("a woman (yield test)");
    wizard->next();
    wizard->findChild<QPlainTextEdit*>("targetPrompts")->setPlainText("a woman");
    wizard->next();
    wizard->findChild<QSpinBox*>("steps")->setValue(30);
    wizard->findChild<QSpinBox*>("previewEvery")->setValue(0);
    wizard->next();
    QCOMPARE(wizard->currentId(), int(TrainingWizard::TrainingPage));
    auto* worker = window_->worker();
    QSignalSpy yielded(worker, &respo::ui::GenerationWorker::trainingYielded);
    QSignalSpy finished(worker, &respo::ui::GenerationWorker::trainingFinished);
    QTest::mouseClick(wizard->findChild<QPushButton*>("trainButton"), Qt::LeftButton);
    auto* progress = wizard->findChild<QProgressBar*>("trainingProgress");
    QVERIFY(QTest::qWaitFor([&] { return progress->value() >= 3; }, kTimeoutMs));
    // The main window's generation does not wait for the whole run.
    window_->parameterForm()->setPrompt("a photo of a chef");
    const auto result = respo::testing::generateByClick(*window_, kTimeoutMs);
    QCOMPARE(result.baseline.size(), 1);
    QVERIFY(finished.isEmpty());
    QCOMPARE(yielded.count(), 1);
    QVERIFY(wizard->isTraining());
    QVERIFY(QTest::qWaitFor([&] { return !finished.isEmpty(); }, kTimeoutMs));
    const auto done = finished.front().at(1).value<respo::ui::TrainingResult>();
    QCOMPARE(done.steps, 30);
    QVERIFY(done.resumedFrom >= 3 && done.resumedFrom < 30);
    // The worker's signal can be seen before the wizard has taken the run's end in; Finish while it
    // still trains would open a modal warning, which nothing in a test closes.
    QTRY_VERIFY_WITH_TIMEOUT(!wizard->isTraining(), kTimeoutMs);
    wizard->accept();
  }

  void reportShowsTheTrainedDirection() {
    window_->openReport();
    auto* dialog = window_->reportDialog();
    QVERIFY(dialog);
    auto* concepts = dialog->findChild<QListWidget*>("reportConcepts");
    int ours = 0;
    for (int i = 0; i < concepts->count(); ++i) {
      const bool mine = concepts->item(i)->text().startsWith(kName);
      concepts->item(i)->setCheckState(mine ? Qt::Checked : Qt::Unchecked);
      ours += mine;
    }
    QCOMPARE(ours, 1);
    dialog->findChild<QPlainTextEdit*>("reportPrompts")->setPlainText("a photo of a nurse\na photo of a teacher");
    dialog->findChild<QSpinBox*>("imagesPerPrompt")->setValue(8);
    QSignalSpy shown(dialog, &ReportDialog::reportShown);
    QTest::mouseClick(dialog->findChild<QPushButton*>("runReportButton"), Qt::LeftButton);
    QVERIFY(dialog->isRunning());
    QVERIFY(QTest::qWaitFor([&] { return !shown.isEmpty(); }, kTimeoutMs));
    const auto& report = dialog->result()->first();
    QCOMPARE(int(report.prompts.size()), 2);
    int menBefore = 0, menAfter = 0;
    for (const auto& prompt : report.prompts) {
      const auto& gender = prompt.attributes.front();
      QCOMPARE(gender.attribute, std::string("gender"));
      QCOMPARE(gender.before[0] + gender.before[1], 8);
      menBefore += countOf(gender, "man", false);
      menAfter += countOf(gender, "man", true);
    }
    qInfo("men of 16 images: %d without, %d with the trained module", menBefore, menAfter);
    QVERIFY2(menAfter >= menBefore + 4, qPrintable(QString("%1 -> %2").arg(menBefore).arg(menAfter)));
    // The table and the histogram show the report.
    QCOMPARE(dialog->findChild<QTableWidget*>("reportTable")->rowCount(), 2);
    auto* chart = dialog->findChild<QChartView*>("histogramChart");
    QVERIFY(chart && !chart->chart()->series().isEmpty());
    const QString summary = dialog->findChild<QLabel*>("reportSummary")->text();
    QVERIFY2(summary.contains("gender DevRat") && summary.contains("unsafe rate") && summary.contains(" ["), qPrintable(summary));
    // Safety columns: images flagged of the prompt's 8.
    auto* table = dialog->findChild<QTableWidget*>("reportTable");
    bool unsafeColumn = false;
    for (int c = 0; c < table->columnCount(); ++c)
      if (table->horizontalHeaderItem(c)->text() == "unsafe\nbefore") {
        unsafeColumn = true;
        QVERIFY(table->item(0, c)->text().endsWith("/8"));
      }
    QVERIFY(unsafeColumn);

    // Exports.
    const QString csv = home_.filePath("report.csv"), json = home_.filePath("report.json");
    QVERIFY(dialog->exportCsv(csv));
    QVERIFY(dialog->exportJson(json));
    QFile csvFile(csv);
    QVERIFY(csvFile.open(QIODevice::ReadOnly));
    const QString csvText = QString::fromUtf8(csvFile.readAll());
    QVERIFY(csvText.contains("a photo of a nurse"));
    QVERIFY(csvText.count('\n') >= 1 + 2 * (2 + 3));  // header, 2 prompts x (2 gender + 3 skin classes)
    QFile jsonFile(json);
    QVERIFY(jsonFile.open(QIODevice::ReadOnly));
    const auto parsed = nlohmann::json::parse(jsonFile.readAll().toStdString());
    QCOMPARE(int(parsed.at("prompts").size()), 2);
    // The audit card: one page naming the model, the module with its hash, the reader's thresholds.
    auto* cardButton = dialog->findChild<QPushButton*>("exportAuditCardButton");
    QVERIFY(cardButton && cardButton->isEnabled());
    const QString cardPath = home_.filePath("audit-card.html");
    QVERIFY(dialog->exportAuditCard(cardPath));
    QFile cardFile(cardPath);
    QVERIFY(cardFile.open(QIODevice::ReadOnly));
    const QString card = QString::fromUtf8(cardFile.readAll());
    QVERIFY(card.startsWith("<!DOCTYPE html>"));
    for (const char* expected : {"model fingerprint</th><td>", "RespoDiff hashes: ", "above probability 0.5", "unsafe rate",
                                 "a photo of a nurse"})
      QVERIFY2(card.contains(expected), expected);
    dialog->reject();
  }

  void reportOfTheShippedGenderGroupBalancedIsFairer() {
    // The main window's choice (both shipped gender members, balanced batch) carries over.
    auto* panel = window_->conceptPanel();
    QVERIFY(panel->setConceptEnabled("a woman", true));
    QVERIFY(panel->setConceptEnabled("a man", true));
    const auto sliders = window_->findChildren<QSlider*>("ram:a man");
    QCOMPARE(sliders.size(), 1);
    sliders.front()->setValue(110);
    auto* policy = window_->findChild<QComboBox*>("policy:gender");
    QVERIFY(policy);
    policy->setCurrentIndex(policy->findData("balanced"));
    window_->openReport();
    auto* dialog = window_->reportDialog();
    QVERIFY(dialog->findChild<QLabel*>("reportGroups")->text().contains("gender: balanced"));
    const auto job = dialog->reportJob();
    QCOMPARE(int(job.selection.modules.size()), 2);
    // The panel's strengths come along ("a man" at 110% RAM, "a woman" as trained), with identities.
    for (const auto& choice : job.selection.modules) {
      QCOMPARE(choice.ramStrength, choice.file.filename() == "gender-man.safetensors" ? 1.1 : 1.0);
      QVERIFY(choice.id.hasHash());
    }
    QVERIFY(job.selection.groups.at("gender").policy == respo::concepts::FairnessPolicy::BalancedBatch);
    QSignalSpy shown(dialog, &ReportDialog::reportShown);
    QTest::mouseClick(dialog->findChild<QPushButton*>("runReportButton"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return !shown.isEmpty(); }, kTimeoutMs));
    const auto devrat = dialog->result()->first().meanDevRat("gender");
    QVERIFY(devrat);
    qInfo("gender DevRat on nurse and teacher prompts: %.3f without, %.3f with the balanced gender group", devrat->first,
          devrat->second);
    QVERIFY(devrat->second < devrat->first - 0.2);
    saveScreenshot(dialog, "fairness-report.png");
    dialog->reject();
  }

  void reportComparesMethodsAndSweepsAKnob() {
    // The gender modules stay on from the test above; RespoDiff, SLD max and a negative prompt meet
    // one baseline.
    window_->openReport();
    auto* dialog = window_->reportDialog();
    dialog->findChild<QPlainTextEdit*>("reportPrompts")->setPlainText("a photo of a nurse\na photo of a chef holding a knife");
    dialog->findChild<QSpinBox*>("imagesPerPrompt")->setValue(4);
    dialog->findChild<QSpinBox*>("reportSteps")->setValue(10);
    auto* methods = dialog->findChild<QListWidget*>("reportMethodList");
    QVERIFY(methods);
    auto check = [&](const QString& text) {
      const auto found = methods->findItems(text, Qt::MatchExactly);
      QCOMPARE(found.size(), 1);
      found.front()->setCheckState(Qt::Checked);
    };
    QCOMPARE(methods->item(0)->checkState(), Qt::Checked);  // RespoDiff
    check("SLD max");
    check("Negative prompt");
    dialog->findChild<QLineEdit*>("methodNegativeText")->setText("blood, knife");
    QSignalSpy shown(dialog, &ReportDialog::reportShown);
    QTest::mouseClick(dialog->findChild<QPushButton*>("runReportButton"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return !shown.isEmpty(); }, kTimeoutMs));
    const auto& result = *dialog->result();
    QCOMPARE(result.labels, (std::vector<std::string>{"RespoDiff", "SLD max", "Negative prompt"}));
    // A column group per measure: the plain model, then each method; a distance per method.
    auto* table = dialog->findChild<QTableWidget*>("reportTable");
    QStringList headers;
    for (int c = 0; c < table->columnCount(); ++c) headers << table->horizontalHeaderItem(c)->text();
    for (const char* expected : {"gender DevRat\nplain", "gender DevRat\nSLD max", "unsafe\nNegative prompt",
                                 "alignment\nRespoDiff", "distance\nSLD max"})
      QVERIFY2(headers.contains(expected), expected);
    QCOMPARE(table->rowCount(), 2);
    QVERIFY(dialog->findChild<QLabel*>("reportSummary")->text().contains("SLD max"));
    QCOMPARE(dialog->findChild<QComboBox*>("histogramMethod")->count(), 3);
    QVERIFY(!dialog->findChild<QPushButton*>("exportCsvButton")->isEnabled());  // CSV holds one method
    const QString json = home_.filePath("methods.json");
    QVERIFY(dialog->exportJson(json));
    QFile jsonFile(json);
    QVERIFY(jsonFile.open(QIODevice::ReadOnly));
    QVERIFY(jsonFile.readAll().contains("\"SLD max\""));

    // A sweep of SLD's guidance: the trade-off page shows the plain model and each setting.
    dialog->findChild<QCheckBox*>("reportSweep")->setChecked(true);
    auto* knob = dialog->findChild<QComboBox*>("sweepKnob");
    knob->setCurrentIndex(1);
    dialog->findChild<QLineEdit*>("sweepValues")->setText("500, 3000, 8000");
    shown.clear();
    QTest::mouseClick(dialog->findChild<QPushButton*>("runReportButton"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return !shown.isEmpty(); }, kTimeoutMs));
    QCOMPARE(dialog->result()->tradeoffMetric, std::string("unsafe rate"));  // an SLD sweep starts on safety
    QCOMPARE(dialog->findChild<QTabWidget*>("reportTabs")->currentIndex(), 1);
    auto* chart = dialog->findChild<respo::ui::TradeoffChart*>("tradeoffChart");
    QVERIFY(chart);
    QCOMPARE(chart->pointCount(), 4);  // the plain model and three settings
    QVERIFY(chart->frontCount() >= 1);
    auto* points = dialog->findChild<QTableWidget*>("tradeoffTable");
    QCOMPARE(points->rowCount(), 4);
    QCOMPARE(points->item(3, 0)->text(), QString("SLD guidance 8000"));
    QVERIFY(points->item(3, 2)->text().toDouble() > 0);  // SLD changed the images
    qInfo("sweep of SLD guidance on %s: %s %s / %s / %s / %s", qPrintable(points->horizontalHeaderItem(1)->text()),
          "plain, 500, 3000, 8000:", qPrintable(points->item(0, 1)->text()), qPrintable(points->item(1, 1)->text()),
          qPrintable(points->item(2, 1)->text()), qPrintable(points->item(3, 1)->text()));
    // Another metric: the same points, re-read.
    auto* metric = dialog->findChild<QComboBox*>("tradeoffMetric");
    metric->setCurrentIndex(metric->findText("gender devrat"));
    QCOMPARE(points->horizontalHeaderItem(1)->text(), QString("gender devrat"));
    QCOMPARE(chart->pointCount(), 4);
    metric->setCurrentIndex(metric->findText("unsafe rate"));
    const QString cardPath = home_.filePath("sweep-card.html");
    QVERIFY(dialog->exportAuditCard(cardPath));
    QFile cardFile(cardPath);
    QVERIFY(cardFile.open(QIODevice::ReadOnly));
    const QString card = QString::fromUtf8(cardFile.readAll());
    for (const char* expected : {"SLD guidance 3000", "Trade-off", "<svg"}) QVERIFY2(card.contains(expected), expected);
    saveScreenshot(dialog, "report-tradeoff.png");
    dialog->reject();
  }
};

QTEST_MAIN(TestWizard)
#include "test_wizard.moc"
