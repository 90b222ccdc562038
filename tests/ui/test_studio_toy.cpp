// The studio on the embedded toy-world model, through its widgets: the shipped concepts, a real
// generation with one switched on, autosave and the gallery, restoring a saved picture (dropped on
// the window) so that it regenerates identically, the queue, the comparison sheet, zoom, and the
// settings that outlive the window.
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QListWidget>
#include <QMimeData>
#include <QProcess>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <QWheelEvent>
#include <memory>

#include "core/pipeline/generation_parameters.h"
#include "core/respo/selection.h"
#include "tests/support/studio_testing.h"
#include "ui/comparison_view.h"
#include "ui/concept_panel.h"
#include "ui/history_panel.h"
#include "ui/main_window.h"
#include "ui/parameter_form.h"

using respo::ui::JobResult;
using respo::ui::MainWindow;

namespace {
constexpr int kTimeoutMs = 180000;
}

class TestStudioToy : public QObject {
  Q_OBJECT
  QTemporaryDir home_;
  std::unique_ptr<MainWindow> window_;
  QString savedPicture_;
  QImage savedPixels_;

  QString pictures() const { return home_.filePath("pictures"); }

  void openWindow(const QString& outputFolder) {
    window_ = respo::testing::openStudio(outputFolder, kTimeoutMs);
    QVERIFY(window_);
  }
  respo::testing::ConceptRow conceptItem(const QString& name) { return respo::testing::conceptItem(*window_, name); }
  JobResult generateByClick() { return respo::testing::generateByClick(*window_, kTimeoutMs); }
  void setPrompt(const QString& text) { window_->parameterForm()->setPrompt(text); }
  void dropFile(const QString& path) {
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    const QPoint at = window_->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(window_.get(), &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(window_.get(), &drop);
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(home_.isValid());
    // Own settings and user library; the shipped toy-world data stays visible.
    respo::testing::isolateUserFolders(home_, "RespoDiffToyTests");
    openWindow(pictures());
    // Concept edits below are followed by explicit clicks on Generate (no live re-renders).
    window_->findChild<QCheckBox*>("liveUpdateCheck")->setChecked(false);
  }

  void cleanupTestCase() { window_.reset(); }

  void startsOnTheEmbeddedModelWithItsConcepts() {
    QCOMPARE(window_->currentModel(), QString::fromStdString(respo::gpu::GenerationService::defaultModelPath().string()));
    QCOMPARE(window_->conceptPanel()->conceptCount(), 7);
    for (const char* name : {"a woman", "a man", "a dark-skinned person", "blood", "knife"}) {
      const auto item = conceptItem(name);
      QVERIFY2(item, name);
      QVERIFY(item->flags() & Qt::ItemIsEnabled);
    }
    QCOMPARE(conceptItem("a woman")->parent()->text(0), QString("gender"));
    QCOMPARE(conceptItem("blood")->parent()->text(0), QString("Safety"));
  }

  void aGenderConceptChangesTheImageAndTheResultIsSaved() {
    setPrompt("a photo of a firefighter");
    window_->parameterForm()->setSeed(3);
    conceptItem("a woman")->setCheckState(0, Qt::Checked);
    QSignalSpy saved(window_.get(), &MainWindow::imagesSaved);
    const JobResult result = generateByClick();
    QCOMPARE(result.responsible.size(), 1);
    QCOMPARE(result.responsible.front().size(), QSize(64, 64));
    QVERIFY(!result.responsibleIsBaseline);
    QVERIFY(result.responsible.front() != result.baseline.front());
    QVERIFY(result.parameters.contains("RespoDiff: a woman [RAM 100% SAM 100%]"));
    QCOMPARE(saved.count(), 1);
    savedPicture_ = saved.front().at(0).toStringList().value(0);
    QVERIFY(QFileInfo(savedPicture_).absolutePath() == QDir(pictures()).absolutePath());
    QVERIFY(QFileInfo::exists(respo::ui::HistoryPanel::baselineCompanion(savedPicture_)));
    savedPixels_ = QImage(savedPicture_).convertToFormat(QImage::Format_RGB888);
    QCOMPARE(savedPixels_, result.responsible.front().convertToFormat(QImage::Format_RGB888));
    QCOMPARE(window_->history()->entryCount(), 1);
    QCOMPARE(window_->history()->queuedCount(), 0);
  }

  void theCommandLineMakesTheSamePixelsFromTheSameSettings() {
    // The settings exactly as the studio recorded them in the picture, passed to `respodiff generate`.
    const QString text = QImage(savedPicture_).text("parameters");
    std::map<std::string, std::string> extra;
    const auto request = respo::pipeline::parseParameters(text.toStdString(), &extra);
    const auto selection = respo::concepts::Selection::fromParameters(extra);
    QCOMPARE(selection.modules.size(), std::size_t{1});
    QVERIFY(QDir().mkpath(home_.filePath("cli")));
    const QString out = home_.filePath("cli/firefighter.png");
    QStringList args{"generate",
                     "--model", QString::fromStdString(respo::gpu::GenerationService::defaultModelPath().string()),
                     "--prompt", QString::fromStdString(request.prompt),
                     "--seed", QString::number(request.seed),
                     "--steps", QString::number(request.steps),
                     "--cfg", QString::number(request.guidanceScale, 'g', 17),
                     "--width", QString::number(request.width),
                     "--height", QString::number(request.height),
                     "--concept", QString::fromStdString(selection.modules[0].id.name),
                     "--ram-strength", QString::number(selection.modules[0].ramStrength),
                     "--sam-strength", QString::number(selection.modules[0].samStrength),
                     "--out", out, "--quiet"};
    if (!request.scheduler.empty()) args << "--scheduler" << QString::fromStdString(request.scheduler);
    if (!request.negativePrompt.empty()) args << "--negative" << QString::fromStdString(request.negativePrompt);
    QProcess cli;
    cli.start(RESPODIFF_CLI, args);  // inherits this test's isolated user folders
    QVERIFY(cli.waitForFinished(kTimeoutMs));
    QVERIFY2(cli.exitStatus() == QProcess::NormalExit && cli.exitCode() == 0, cli.readAllStandardError().constData());
    const QImage made(out);
    QVERIFY(!made.isNull());
    QCOMPARE(made.convertToFormat(QImage::Format_RGB888), savedPixels_);
    // ...and records the same module, by identity.
    std::map<std::string, std::string> cliExtra;
    respo::pipeline::parseParameters(made.text("parameters").toStdString(), &cliExtra);
    QCOMPARE(respo::concepts::Selection::fromParameters(cliExtra).toParameters(), selection.toParameters());
  }

  void droppingASavedPictureRestoresItAndRegeneratesTheSameImage() {
    setPrompt("something else");
    window_->parameterForm()->setSeed(77);
    window_->findChild<QSpinBox*>("stepsSpin")->setValue(9);
    conceptItem("a woman")->setCheckState(0, Qt::Unchecked);
    QVERIFY(window_->conceptPanel()->selection().empty());

    dropFile(savedPicture_);
    QCOMPARE(window_->prompt(), QString("a photo of a firefighter"));
    QCOMPARE(window_->findChild<QSpinBox*>("seedSpin")->value(), 3);
    QCOMPARE(window_->findChild<QSpinBox*>("stepsSpin")->value(), 25);
    QCOMPARE(conceptItem("a woman")->checkState(0), Qt::Checked);
    QCOMPARE(window_->conceptPanel()->selection().modules.size(), std::size_t{1});
    QCOMPARE(window_->comparisonView()->responsible().convertToFormat(QImage::Format_RGB888), savedPixels_);

    const JobResult again = generateByClick();
    QCOMPARE(again.responsible.front().convertToFormat(QImage::Format_RGB888), savedPixels_);
  }

  void aPictureWithoutParametersIsRefusedWithAMessage() {
    const QString plain = home_.filePath("plain.png");
    QImage(8, 8, QImage::Format_RGB888).save(plain);
    QSignalSpy errors(window_.get(), &MainWindow::errorShown);
    QVERIFY(!window_->restoreFromFile(plain));
    QCOMPARE(errors.count(), 1);
    QVERIFY(errors.front().at(1).toString().contains("no generation parameters"));
    QCOMPARE(window_->prompt(), QString("a photo of a firefighter"));  // nothing changed
  }

  void clickingAHistoryPictureRestoresItsSettings() {
    conceptItem("a woman")->setCheckState(0, Qt::Unchecked);
    setPrompt("portrait of a nurse");
    const JobResult plain = generateByClick();
    QCOMPARE(plain.responsible.size(), 1);
    // Every concept off: both sides are the same pixels.
    QVERIFY(plain.responsibleIsBaseline);
    QCOMPARE(window_->comparisonView()->responsible(), window_->comparisonView()->baseline());
    auto* history = window_->history();
    QCOMPARE(history->entryCount(), 3);  // newest first
    QVERIFY(history->entry(0).parameters.startsWith("portrait of a nurse\n"));
    auto* list = history->list();
    QListWidgetItem* oldest = list->item(list->count() - 1);
    list->scrollToItem(oldest);
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualItemRect(oldest).center());
    QCOMPARE(window_->prompt(), QString("a photo of a firefighter"));
    QCOMPARE(conceptItem("a woman")->checkState(0), Qt::Checked);
  }

  void aQueuedJobCanBeRemovedAndTheRunningOneCancelled() {
    window_->findChild<QSpinBox*>("stepsSpin")->setValue(150);
    QSignalSpy shown(window_.get(), &MainWindow::resultShown);
    QSignalSpy cancelled(window_->worker(), &respo::ui::GenerationWorker::jobCancelled);
    QSignalSpy started(window_->worker(), &respo::ui::GenerationWorker::jobStarted);
    auto* generate = window_->findChild<QWidget*>("generateButton");
    for (int i = 0; i < 3; ++i) QTest::mouseClick(generate, Qt::LeftButton);
    const QList<int> jobs = window_->history()->jobIds();  // in the order they run
    QCOMPARE(jobs.size(), 3);
    Q_EMIT window_->history()->removeQueuedRequested(jobs.back());  // still queued: taken out
    QCOMPARE(window_->history()->jobIds(), QList<int>({jobs[0], jobs[1]}));
    QTRY_VERIFY_WITH_TIMEOUT(started.count() >= 1, kTimeoutMs);
    QTRY_VERIFY(window_->isBusy());
    Q_EMIT window_->history()->removeQueuedRequested(jobs.front());  // running: cancelled
    QTRY_VERIFY_WITH_TIMEOUT(!window_->isBusy() && window_->history()->jobIds().isEmpty(), kTimeoutMs);
    QTest::qWait(200);
    QCOMPARE(shown.count(), 1);  // only the middle job ran to the end
    QCOMPARE(cancelled.count(), 1);
    QCOMPARE(cancelled.front().at(0).toInt(), jobs.front());
    window_->findChild<QSpinBox*>("stepsSpin")->setValue(25);
  }

  void theComparisonSheetShowsBothSidesWithTheSettings() {
    const QString sheet = home_.filePath("sheet.png");
    QVERIFY(window_->exportComparisonSheet(sheet));
    const QImage image(sheet);
    QVERIFY(!image.isNull());
    QCOMPARE(image.width(), 2 * 256 + 3 * 16);  // 64 px images enlarged 4x, two columns
    QVERIFY(image.height() > 256);
    QVERIFY(image.text("parameters").contains("RespoDiff: a woman"));
  }

  void zoomActsOnBothSidesAndDoubleClickFits() {
    auto* view = window_->comparisonView();
    auto* canvas = view->findChild<QWidget*>("comparisonCanvas");
    QCOMPARE(view->zoom(), 0.0);
    const QPointF at = QRectF(canvas->rect()).center();
    QWheelEvent wheel(at, canvas->mapToGlobal(at), {}, QPoint(0, 120), Qt::NoButton, Qt::ControlModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(canvas, &wheel);
    QVERIFY(view->zoom() >= 1.0);
    const double once = view->zoom();
    QApplication::sendEvent(canvas, &wheel);
    QCOMPARE(view->zoom(), 2 * once);
    QCOMPARE(view->findChild<QComboBox*>("zoomCombo")->currentData().toDouble(), 2 * once);
    QTest::mouseDClick(canvas, Qt::LeftButton);
    QCOMPARE(view->zoom(), 0.0);
    QCOMPARE(view->findChild<QComboBox*>("zoomCombo")->currentIndex(), 0);
  }

  void theSpeedModeRunsIsRecordedAndRestored() {
    auto* speed = window_->findChild<QComboBox*>("speedCombo");
    QVERIFY(speed);
    QCOMPARE(speed->currentData().toInt(), 0);  // full quality unless asked
    const JobResult full = generateByClick();
    speed->setCurrentIndex(speed->findData(2));
    const JobResult fast = generateByClick();
    QCOMPARE(fast.request.stepCache, 2);
    QVERIFY2(fast.parameters.contains("Step cache: 2"), qPrintable(fast.parameters));
    QVERIFY(!full.parameters.contains("Step cache"));
    QVERIFY(!fast.baselineFromCache);  // the baseline of the other mode is not reused
    QVERIFY(fast.responsible.front() != full.responsible.front());
    dropFile(savedPicture_);  // a picture made at full quality sets the mode back
    QCOMPARE(speed->currentData().toInt(), 0);
  }

  void tiledDecodingIsRecordedAndRestored() {
    auto* tiling = window_->findChild<QCheckBox*>("vaeTilingCheck");
    QVERIFY(tiling);
    QVERIFY(!tiling->isChecked());  // whole decoding unless asked
    tiling->setChecked(true);
    const JobResult tiled = generateByClick();
    QVERIFY(tiled.request.vaeTiling);
    QVERIFY2(tiled.parameters.contains("VAE tiling: on"), qPrintable(tiled.parameters));
    QVERIFY(!tiled.baselineFromCache);  // the baseline of whole decoding is not reused
    dropFile(savedPicture_);  // a picture decoded whole sets it back
    QVERIFY(!tiling->isChecked());
  }

  void winogradConvolutionsAreRecordedAndRestored() {
    auto* winograd = window_->findChild<QCheckBox*>("winogradCheck");
    QVERIFY(winograd);
    QVERIFY(!winograd->isChecked());  // direct convolutions unless asked
    winograd->setChecked(true);
    const JobResult fast = generateByClick();
    QVERIFY(fast.request.winogradConvolutions);
    QVERIFY2(fast.parameters.contains("Convolutions: winograd"), qPrintable(fast.parameters));
    QVERIFY(!fast.baselineFromCache);  // the baseline of direct convolutions is not reused
    dropFile(savedPicture_);  // a picture made with direct convolutions sets it back
    QVERIFY(!winograd->isChecked());
  }

  void settingsAndTheGalleryOutliveTheWindow() {
    const QString elsewhere = home_.filePath("elsewhere");
    QDir().mkpath(elsewhere);
    QVERIFY(QFile::copy(savedPicture_, QDir(elsewhere).filePath("kept.png")));
    window_->setOutputFolder(elsewhere);
    // A size of the user's, above the window's minimum (which grows as controls are added).
    const QSize chosen = QSize(1111, 880).expandedTo(window_->minimumSizeHint()) + QSize(7, 13);
    window_->resize(chosen);
    window_->close();
    window_.reset();

    openWindow(QString());  // the folder comes from the settings now
    QCOMPARE(window_->outputFolder(), elsewhere);
    QCOMPARE(window_->size(), chosen);
    QCOMPARE(window_->history()->entryCount(), 1);  // kept.png, read from disk
    const auto entry = window_->history()->entry(0);
    QVERIFY2(entry.parameters.startsWith("a photo of a firefighter\n"), qPrintable(entry.parameters));
    QCOMPARE(entry.responsible.value(0).convertToFormat(QImage::Format_RGB888), savedPixels_);
  }
};

QTEST_MAIN(TestStudioToy)
#include "test_studio_toy.moc"
