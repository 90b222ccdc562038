// Two methods side by side on one seed, through the studio's widgets on the toy-world model: Safe
// Latent Diffusion on the left, a concept edit (made by `respodiff edit-concepts`) on the right. The
// saved picture records both sides, and restoring it brings both back and regenerates the same pixels.
#include <QAction>
#include <QCheckBox>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QComboBox>
#include <QDir>
#include <QProcess>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "core/common/paths.h"
#include "tests/support/studio_testing.h"
#include "ui/history_panel.h"
#include "ui/main_window.h"
#include "ui/method_grid_dialog.h"
#include "ui/methods_box.h"
#include "ui/parameter_form.h"

using respo::ui::JobResult;
using respo::ui::MainWindow;
using Side = respo::ui::MethodsBox::Side;

namespace {
constexpr int kTimeoutMs = 180000;
}

class TestStudioMethods : public QObject {
  Q_OBJECT
  QTemporaryDir home_;
  std::unique_ptr<MainWindow> window_;
  QString edit_, saved_;
  QImage left_, right_;

  JobResult generateByClick() { return respo::testing::generateByClick(*window_, kTimeoutMs); }
  respo::ui::MethodsBox* methods() { return window_->methodsBox(); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(home_.isValid());
    respo::testing::isolateUserFolders(home_, "RespoDiffMethodsTests");
    // A concept edit of the toy model in the user's library, made by the command line.
    const auto edits = respo::paths::userConcepts() / "edits";
    QVERIFY(QDir().mkpath(QString::fromStdString(edits.string())));
    edit_ = QString::fromStdString((edits / "erase-blood.safetensors").string());
    QProcess cli;
    cli.start(RESPODIFF_CLI, {"edit-concepts", "--model", QString::fromStdString(respo::paths::toyModel().string()),
                              "--erase", "blood; a knife fight", "--preserve", "a photo of a doctor; a photo of a nurse",
                              "--out", edit_});
    QVERIFY(cli.waitForFinished(kTimeoutMs));
    QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
    window_ = respo::testing::openStudio(home_.filePath("pictures"), kTimeoutMs);
    QVERIFY(window_);
    window_->findChild<QCheckBox*>("liveUpdateCheck")->setChecked(false);
  }

  void cleanupTestCase() { window_.reset(); }

  void theLibrarysEditsAreOffered() {
    auto* box = window_->findChild<QComboBox*>("edit:right");
    QVERIFY(box);
    QVERIFY(box->findData(edit_) > 0);
    QVERIFY(box->itemText(box->findData(edit_)).contains("erase-blood (uce-erase)"));
    QVERIFY(methods()->methods(Side::Left).empty());
    QVERIFY(methods()->methods(Side::Right).empty());
  }

  void sldOnTheLeftAndAnEditOnTheRightShareTheSeed() {
    window_->parameterForm()->setPrompt("a knife fight in the rain");
    window_->parameterForm()->setSeed(5);
    const JobResult plain = generateByClick();
    QVERIFY(plain.responsibleIsBaseline);

    QVERIFY(methods()->chooseSld(Side::Left, "strong"));
    QVERIFY(methods()->chooseEdit(Side::Right, edit_));
    QSignalSpy saved(window_.get(), &MainWindow::imagesSaved);
    const JobResult both = generateByClick();
    QVERIFY(!both.responsibleIsBaseline);
    QVERIFY(both.baseline.front() != both.responsible.front());
    QVERIFY(both.baseline.front() != plain.baseline.front());     // SLD acted on the left
    QVERIFY(both.responsible.front() != plain.baseline.front());  // the edit acted on the right
    QVERIFY(both.parameters.contains("Concept edit: erase-blood (uce-erase)"));
    QVERIFY(both.parameters.contains("Concept edit hash: "));
    QVERIFY(both.parameters.contains("Baseline SLD: strong"));
    QCOMPARE(saved.count(), 1);
    saved_ = saved.front().at(0).toStringList().value(0);
    const QString companion = respo::ui::HistoryPanel::baselineCompanion(saved_);
    QVERIFY(QImage(companion).text("parameters").contains("SLD: strong"));
    QVERIFY(!QImage(companion).text("parameters").contains("Concept edit"));
    left_ = both.baseline.front().convertToFormat(QImage::Format_RGB888);
    right_ = both.responsible.front().convertToFormat(QImage::Format_RGB888);
  }

  void restoringThePictureBringsBothMethodsBackAndTheSamePixels() {
    QVERIFY(methods()->chooseSld(Side::Left, ""));
    QVERIFY(methods()->chooseEdit(Side::Right, ""));
    window_->parameterForm()->setSeed(99);
    QVERIFY(window_->restoreFromFile(saved_));
    QVERIFY(methods()->methods(Side::Left).sld.has_value());
    QCOMPARE(methods()->methods(Side::Left).sld->presetName(), std::string("strong"));
    QVERIFY(methods()->methods(Side::Left).conceptEdit.empty());
    QCOMPARE(QString::fromStdString(methods()->methods(Side::Right).conceptEdit.string()), edit_);
    QVERIFY(!methods()->methods(Side::Right).sld);
    const JobResult again = generateByClick();
    QCOMPARE(again.baseline.front().convertToFormat(QImage::Format_RGB888), left_);
    QCOMPARE(again.responsible.front().convertToFormat(QImage::Format_RGB888), right_);
  }

  void aGridRunsEachMethodForEachSeedAndTouchesNothingElse() {
    QSignalSpy saved(window_.get(), &MainWindow::imagesSaved);
    const int historyBefore = window_->history()->entryCount();
    window_->findChild<QAction*>("methodGridAction")->trigger();
    auto* grid = window_->methodGrid();
    QVERIFY(grid);
    auto* list = grid->findChild<QListWidget*>("gridMethods");
    QStringList labels;
    for (int i = 0; i < list->count(); ++i) labels << list->item(i)->text();
    QVERIFY(labels.contains("plain model"));
    QVERIFY(labels.contains("SLD max"));
    QVERIFY(labels.contains("edit erase-blood"));
    for (int i = 0; i < list->count(); ++i) {
      const QString text = list->item(i)->text();
      list->item(i)->setCheckState(text == "plain model" || text == "SLD strong" || text == "edit erase-blood" ? Qt::Checked
                                                                                                             : Qt::Unchecked);
    }
    grid->findChild<QSpinBox*>("gridSeeds")->setValue(2);
    QSignalSpy finished(grid, &respo::ui::MethodGridDialog::gridFinished);
    QTest::mouseClick(grid->findChild<QPushButton*>("gridStart"), Qt::LeftButton);
    QVERIFY(finished.wait(kTimeoutMs));
    QCOMPARE(grid->columnLabels(), (QStringList{"plain model", "SLD strong", "edit erase-blood"}));
    for (int row = 0; row < 2; ++row)
      for (int column = 0; column < 3; ++column) QVERIFY(!grid->cell(row, column).isNull());
    QVERIFY(grid->cell(0, 0) != grid->cell(0, 2));  // the edit acts
    QVERIFY(grid->cell(0, 0) != grid->cell(1, 0));  // another seed, another image
    // The restored picture's SLD-left / edit-right pair is the grid's first row (same seed, same methods).
    QCOMPARE(grid->cell(0, 1).convertToFormat(QImage::Format_RGB888), left_);
    QCOMPARE(grid->cell(0, 2).convertToFormat(QImage::Format_RGB888), right_);
    QCOMPARE(saved.count(), 0);
    QCOMPARE(window_->history()->entryCount(), historyBefore);
    grid->close();
  }

  void theTextBaselinesArePerSideAndRestored() {
    QVERIFY(methods()->chooseSld(Side::Left, ""));
    QVERIFY(methods()->chooseEdit(Side::Right, ""));
    methods()->setTexts(Side::Left, "blood, a knife", "");
    methods()->setTexts(Side::Right, "", "at night");
    QSignalSpy saved(window_.get(), &MainWindow::imagesSaved);
    const JobResult result = generateByClick();
    QVERIFY(result.parameters.contains("Baseline Negative method: \"blood, a knife\""));
    QVERIFY(result.parameters.contains("Prompt edit: at night"));
    QVERIFY(result.parameters.startsWith("a knife fight in the rain\n"));  // the user's prompt as typed
    QCOMPARE(saved.count(), 1);
    const QString picture = saved.front().at(0).toStringList().value(0);
    methods()->setTexts(Side::Left, "", "");
    methods()->setTexts(Side::Right, "", "");
    QVERIFY(window_->restoreFromFile(picture));
    QCOMPARE(QString::fromStdString(methods()->methods(Side::Left).negativeText), QString("blood, a knife"));
    QCOMPARE(QString::fromStdString(methods()->methods(Side::Right).promptText), QString("at night"));
    QVERIFY(methods()->methods(Side::Right).negativeText.empty());
    const JobResult again = generateByClick();
    QCOMPARE(again.baseline.front(), result.baseline.front());
    QCOMPARE(again.responsible.front(), result.responsible.front());
    methods()->setTexts(Side::Left, "", "");
    methods()->setTexts(Side::Right, "", "");
  }

  void aRestoredEditThatIsNotInstalledIsNamedAndLeftOff() {
    QVERIFY(QFile::remove(edit_));
    QVERIFY(window_->restoreFromFile(saved_));
    QVERIFY(window_->statusBar()->currentMessage().contains("the concept edit 'erase-blood'"));
    QVERIFY(window_->statusBar()->currentMessage().contains("is not installed"));
    QVERIFY(methods()->methods(Side::Right).conceptEdit.empty());
    QVERIFY(methods()->methods(Side::Left).sld.has_value());  // the rest is restored
  }
};

QTEST_MAIN(TestStudioMethods)
#include "test_studio_methods.moc"
