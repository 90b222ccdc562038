// The studio's widgets on the real engine queue with a runner that computes nothing
// (tests/support/fake_runner.h): every test here takes milliseconds. Generating by click, autosave
// with the baseline companion, the queue (cancel, failure), and restoring a picture's concepts by
// module identity, saying so when the module is missing. The end-to-end tests on the toy model
// (test_studio_toy, test_studio_generation, test_wizard) keep the real pixels honest.
#include <QCheckBox>
#include <QLabel>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "tests/support/fake_runner.h"
#include "tests/support/studio_testing.h"
#include "ui/concept_panel.h"
#include "ui/history_panel.h"
#include "ui/main_window.h"
#include "ui/parameter_form.h"

using respo::testing::fakeConcept;
using respo::ui::JobResult;
using respo::ui::MainWindow;

namespace {
constexpr int kTimeoutMs = 10000;
}

class TestStudioFake : public QObject {
  Q_OBJECT
  QTemporaryDir home_;
  std::shared_ptr<respo::testing::FakeControls> controls_ = std::make_shared<respo::testing::FakeControls>();
  std::unique_ptr<MainWindow> window_;
  QString picture_;

  QString pictures() const { return home_.filePath("pictures"); }
  respo::testing::ConceptRow item(const QString& name) { return respo::testing::conceptItem(*window_, name); }
  JobResult generateByClick() { return respo::testing::generateByClick(*window_, kTimeoutMs); }
  void listConcepts(std::vector<respo::gpu::ConceptInfo> concepts) {
    const int count = static_cast<int>(concepts.size());
    {
      std::lock_guard lock(controls_->mutex);
      controls_->concepts = std::move(concepts);
    }
    QSignalSpy changed(window_->worker(), &respo::ui::GenerationWorker::conceptsChanged);
    window_->worker()->refreshConcepts(0, 0);
    // (The spy sees the signal on the engine's thread; the panel gets it through a queued connection.)
    QVERIFY(QTest::qWaitFor([&] { return changed.count() >= 1; }, kTimeoutMs));
    QTRY_COMPARE_WITH_TIMEOUT(window_->conceptPanel()->conceptCount(), count, kTimeoutMs);
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(home_.isValid());
    respo::testing::isolateUserFolders(home_, "RespoDiffFakeTests");
    controls_->concepts = {fakeConcept("a woman", "gender", "/user/concepts/a_woman.safetensors", 'a'),
                           fakeConcept("a woman", "gender", "/shipped/concepts/a_woman.safetensors", 'b'),
                           fakeConcept("blood", "safety", "/shipped/concepts/blood.safetensors", 'c')};
    QVERIFY(QDir().mkpath(home_.filePath("fake-model")));
    window_ = respo::testing::openStudio(pictures(), kTimeoutMs, respo::testing::makeFakeEngine(controls_),
                                         home_.filePath("fake-model"));
    QVERIFY(window_);
    window_->findChild<QCheckBox*>("liveUpdateCheck")->setChecked(false);
  }

  void cleanupTestCase() { window_.reset(); }

  void opensOnTheModelItWasGivenWithItsConcepts() {
    QCOMPARE(window_->currentModel(), home_.filePath("fake-model"));
    QCOMPARE(window_->conceptPanel()->conceptCount(), 3);
    QCOMPARE(controls_->loads.load(), 1);
  }

  void aClickGeneratesThePairAndAutosavesBothFiles() {
    window_->parameterForm()->setPrompt("a photo of a firefighter");
    window_->parameterForm()->setSeed(3);
    window_->findChild<QSpinBox*>("stepsSpin")->setValue(4);
    item("blood")->setCheckState(0, Qt::Checked);
    QSignalSpy saved(window_.get(), &MainWindow::imagesSaved);
    const JobResult result = generateByClick();
    QCOMPARE(result.responsible.size(), 1);
    QVERIFY(!result.responsibleIsBaseline);
    const int value = (3 * 37 + 5) & 255;  // the fake runner's flat images
    QCOMPARE(qRed(result.baseline.front().pixel(0, 0)), value);
    QCOMPARE(qRed(result.responsible.front().pixel(0, 0)), 255 - value);
    QVERIFY(result.parameters.contains("RespoDiff: blood [RAM 100% SAM 100%]"));
    QVERIFY(result.parameters.contains("RespoDiff hashes: \"blood: cccccccccc\""));  // quoted: it holds a colon
    QCOMPARE(saved.count(), 1);
    picture_ = saved.front().at(0).toStringList().value(0);
    QVERIFY(QFileInfo::exists(picture_));
    QVERIFY(QFileInfo::exists(respo::ui::HistoryPanel::baselineCompanion(picture_)));
    QCOMPARE(window_->history()->entryCount(), 1);
  }

  void savedPicturesAreReadBackByTheEnginesCodec() {
    // A fresh history lists the saved picture (not its baseline companion) with its parameters.
    respo::ui::HistoryPanel panel;
    QCOMPARE(panel.addFolder(pictures()), 1);
    QVERIFY(panel.entry(0).parameters.contains("RespoDiff: blood [RAM 100% SAM 100%]"));
    const auto read = respo::ui::HistoryPanel::readFile(picture_);
    QCOMPARE(read.responsible.size(), 1);
    QCOMPARE(read.baseline.size(), 1);
    QCOMPARE(qRed(read.responsible.front().pixel(0, 0)), 255 - ((3 * 37 + 5) & 255));
    // A damaged copy is refused with the reader's reason, and nothing changes.
    QFile original(picture_);
    QVERIFY(original.open(QIODevice::ReadOnly));
    const QByteArray head = original.read(120);
    QFile damaged(home_.filePath("damaged.png"));
    QVERIFY(damaged.open(QIODevice::WriteOnly));
    damaged.write(head);
    damaged.close();
    QSignalSpy errors(window_.get(), &MainWindow::errorShown);
    QVERIFY(!window_->restoreFromFile(damaged.fileName()));
    QCOMPARE(errors.count(), 1);
    const QString message = errors.front().at(1).toString();
    QVERIFY2(message.contains("is not a readable PNG image: ") && message.contains("damaged.png"), qPrintable(message));
    QCOMPARE(window_->prompt(), QString("a photo of a firefighter"));
  }

  void cancelStopsTheRunningJobAndEmptiesTheQueue() {
    controls_->hold = true;
    const int ran = controls_->generations;
    QSignalSpy cancelled(window_->worker(), &respo::ui::GenerationWorker::jobCancelled);
    QSignalSpy started(window_->worker(), &respo::ui::GenerationWorker::jobStarted);
    QTest::mouseClick(window_->findChild<QWidget*>("generateButton"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return controls_->atStep == 1; }, kTimeoutMs));
    QTest::mouseClick(window_->findChild<QWidget*>("generateButton"), Qt::LeftButton);  // "Queue another"
    QTRY_COMPARE_WITH_TIMEOUT(window_->history()->queuedCount(), 2, kTimeoutMs);  // the running one and the waiting one
    QTRY_VERIFY_WITH_TIMEOUT(window_->isBusy(), kTimeoutMs);
    QTest::mouseClick(window_->findChild<QWidget*>("cancelButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!window_->isBusy() && cancelled.count() == 2, kTimeoutMs);
    controls_->hold = false;
    QCOMPARE(started.count(), 1);  // the queued job never started
    QCOMPARE(controls_->generations - ran, 1);
    QCOMPARE(window_->history()->queuedCount(), 0);
    QCOMPARE(window_->findChild<QLabel*>("progressLabel")->text(), QString("Cancelled"));
  }

  void aFailedJobIsShownAsAnErrorAndNothingIsLost() {
    const int pictures = window_->history()->entryCount();
    controls_->failNextJob("width must be a multiple of 8");
    QSignalSpy errors(window_.get(), &MainWindow::errorShown);
    QTest::mouseClick(window_->findChild<QWidget*>("generateButton"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return errors.count() == 1; }, kTimeoutMs));
    QCOMPARE(errors.front().at(0).toString(), QString("Generation failed"));
    QVERIFY(errors.front().at(1).toString().contains("width must be a multiple of 8"));
    QTRY_VERIFY_WITH_TIMEOUT(!window_->isBusy(), kTimeoutMs);
    QCOMPARE(window_->history()->entryCount(), pictures);
    QCOMPARE(window_->prompt(), QString("a photo of a firefighter"));
  }

  void restoringAPictureSelectsTheExactModuleOfTwoWithOneName() {
    // Made with the shipped "a woman" (hash b...), while the user's own "a woman" is listed first.
    item("blood")->setCheckState(0, Qt::Unchecked);
    const auto shipped = respo::testing::conceptRows(*window_, "a woman").value(1);
    QVERIFY(shipped);
    shipped->setCheckState(0, Qt::Checked);
    QCOMPARE(window_->conceptPanel()->selection().modules.at(0).file.string(), std::string("/shipped/concepts/a_woman.safetensors"));
    QSignalSpy saved(window_.get(), &MainWindow::imagesSaved);
    QCOMPARE(generateByClick().responsible.size(), 1);
    QCOMPARE(saved.count(), 1);
    const QString madeWithShipped = saved.front().at(0).toStringList().value(0);

    shipped->setCheckState(0, Qt::Unchecked);
    QVERIFY(window_->restoreFromFile(madeWithShipped));
    const auto selection = window_->conceptPanel()->selection();
    QCOMPARE(selection.modules.size(), std::size_t{1});
    QCOMPARE(selection.modules[0].file.string(), std::string("/shipped/concepts/a_woman.safetensors"));
    QCOMPARE(window_->statusBar()->currentMessage(), QString("Settings restored"));
  }

  void restoringAPictureWhoseModuleIsGoneSaysSo() {
    // The shipped "a woman" is no longer installed; the user's, with the same name, must not stand in.
    const QString madeWithShipped = window_->history()->entry(0).file;
    listConcepts({fakeConcept("a woman", "gender", "/user/concepts/a_woman.safetensors", 'a'),
                  fakeConcept("blood", "safety", "/shipped/concepts/blood.safetensors", 'c')});
    QCOMPARE(window_->conceptPanel()->conceptCount(), 2);
    QVERIFY(window_->restoreFromFile(madeWithShipped));
    QVERIFY(window_->conceptPanel()->selection().empty());
    const QString message = window_->statusBar()->currentMessage();
    QVERIFY2(message.contains("'a woman' (hash bbbbbbbbbb): a different module of that name is installed (hash aaaaaaaaaa), left off"),
             qPrintable(message));
  }
};

QTEST_MAIN(TestStudioFake)
#include "test_studio_fake.moc"
