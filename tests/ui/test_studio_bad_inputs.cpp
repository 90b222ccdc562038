// The studio given bad input through its own paths: damaged model folders (open model), damaged
// concept files (library refresh), damaged or hostile pictures (restore), bad prompt lists (import).
// Each gives an error message, keeps what was there, and leaves the app usable: a generation on the
// embedded model still works at the end.
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QSpinBox>
#include <QTimer>
#include <random>
#include <QFile>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <memory>
#include <sys/stat.h>

#include "core/common/paths.h"
#include "tests/support/studio_testing.h"
#include "ui/concept_panel.h"
#include "ui/history_panel.h"
#include "ui/main_window.h"
#include "ui/parameter_form.h"
#include "ui/prompt_import.h"

using respo::ui::JobResult;
using respo::ui::MainWindow;

namespace {
constexpr int kTimeoutMs = 180000;

QByteArray readAll(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll();
}

void writeAll(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  QCOMPARE(f.write(bytes), bytes.size());
}

// A copy of the embedded model folder with `changes` (relative path -> new bytes, or null to delete).
QString modelVariant(const QTemporaryDir& home, const QString& name, const QMap<QString, QByteArray>& changes) {
  const QDir source(QString::fromStdString(respo::paths::toyModel().string()));
  const QString target = home.filePath("models/" + name);
  for (const QString& part : {"", "unet", "vae", "text_encoder", "tokenizer", "scheduler"}) QDir().mkpath(target + "/" + part);
  for (const QString& rel : {"model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                             "vae/config.json", "vae/diffusion_pytorch_model.safetensors", "text_encoder/config.json",
                             "text_encoder/model.safetensors", "tokenizer/vocab.json", "tokenizer/merges.txt",
                             "tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json",
                             "scheduler/scheduler_config.json"}) {
    if (changes.contains(rel)) {
      if (!changes[rel].isNull()) writeAll(target + "/" + rel, changes[rel]);
      continue;
    }
    QFile::copy(source.filePath(rel), target + "/" + rel);
  }
  return target;
}

}  // namespace

class TestStudioBadInputs : public QObject {
  Q_OBJECT
  QTemporaryDir home_;
  std::unique_ptr<MainWindow> window_;

  QString userConcepts() const { return home_.filePath("data/respodiff/concepts"); }

  // Opens `path` and waits for the error; the embedded model stays loaded.
  void expectModelRefused(const QString& path, const QString& expected) {
    const QString before = window_->currentModel();
    QSignalSpy errors(window_.get(), &MainWindow::errorShown);
    window_->openModel(path);
    QVERIFY2(errors.wait(kTimeoutMs) || errors.count() > 0, qPrintable(path));
    QCOMPARE(errors.front().at(0).toString(), QString("Cannot open the model"));
    const QString message = errors.front().at(1).toString();
    QVERIFY2(message.contains(expected, Qt::CaseInsensitive), qPrintable(message));
    QCOMPARE(window_->currentModel(), before);
    closeErrorBoxes();
  }
  void closeErrorBoxes() {
    for (auto* box : window_->findChildren<QMessageBox*>("errorBox")) box->close();
    QApplication::processEvents();
  }
  void reloadLibrary() {
    QAction* reload = nullptr;
    for (auto* a : window_->findChildren<QAction*>())
      if (a->text().contains("Reload the concept library")) reload = a;
    QVERIFY(reload);
    reload->trigger();
    // The refresh runs on the worker; wait until the panel shows the damaged files' section.
    auto* view = window_->findChild<QTreeView*>("conceptTree");
    QVERIFY(QTest::qWaitFor([&] {
      const auto section = respo::testing::conceptItem(*window_, "Cannot be read");
      return section && section.childCount() > 0 && !view->isRowHidden(section.index.row(), {});
    }, kTimeoutMs));
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(home_.isValid());
    respo::testing::isolateUserFolders(home_, "RespoDiffBadInputTests");
    QDir().mkpath(userConcepts());
    window_ = respo::testing::openStudio(home_.filePath("pictures"), kTimeoutMs);
    QVERIFY(window_);
    QCOMPARE(window_->conceptPanel()->conceptCount(), 7);
  }

  void cleanupTestCase() { window_.reset(); }

  void damagedModelFoldersAreRefusedAndTheModelStays() {
    expectModelRefused(home_.filePath("no-such-folder"), "");
    expectModelRefused(modelVariant(home_, "index-array", {{"model_index.json", "[1, 2]"}}), "model_index.json");
    expectModelRefused(modelVariant(home_, "groups-zero", {{"unet/config.json",
        R"({"_class_name": "UNet2DConditionModel", "block_out_channels": [48, 96], "norm_num_groups": 0,
            "down_block_types": ["DownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "UpBlock2D"]})"}}),
        "norm_num_groups");
    expectModelRefused(modelVariant(home_, "overflow", {{"vae/config.json", R"({"scaling_factor": 1e999})"}}), "vae");
    const auto weights = readAll(QString::fromStdString((respo::paths::toyModel() / "unet/diffusion_pytorch_model.safetensors").string()));
    QVERIFY(weights.size() > 1000);
    expectModelRefused(modelVariant(home_, "truncated", {{"unet/diffusion_pytorch_model.safetensors", weights.left(weights.size() / 2)}}),
                       "unet");
    expectModelRefused(modelVariant(home_, "no-tokenizer", {{"tokenizer/vocab.json", QByteArray()}}), "vocab.json");
    expectModelRefused(modelVariant(home_, "garbage-vocab", {{"tokenizer/vocab.json", QByteArray(5000, '\xff')}}), "vocab.json");
  }

  void damagedConceptFilesAreListedAsUnreadableAndTheRestStayUsable() {
    const auto shipped = respo::paths::shippedConcepts();
    const auto woman = readAll(QString::fromStdString((shipped / "gender-woman.safetensors").string()));
    QVERIFY(woman.size() > 100);
    writeAll(userConcepts() + "/truncated.safetensors", woman.left(woman.size() - 64));
    writeAll(userConcepts() + "/garbage.safetensors", QByteArray(4096, 'x'));
    auto nan = woman;
    for (qsizetype i = nan.size() - 256; i < nan.size(); ++i) nan[i] = '\xff';  // float NaNs in the data
    writeAll(userConcepts() + "/nan.safetensors", nan);
    reloadLibrary();
    const auto section = respo::testing::conceptItem(*window_, "Cannot be read");
    QVERIFY(section);
    QCOMPARE(section->childCount(), 3);
    for (int i = 0; i < section->childCount(); ++i) {
      QVERIFY(!(section->child(i)->flags() & Qt::ItemIsEnabled));
      QVERIFY(!section->child(i)->toolTip(0).isEmpty());
    }
    // The shipped modules are all still there and usable.
    QCOMPARE(window_->conceptPanel()->conceptCount(), 7);
    const auto man = respo::testing::conceptItem(*window_, "a man");
    QVERIFY(man && (man->flags() & Qt::ItemIsEnabled));
    QVERIFY(section->child(0)->toolTip(0).contains("cannot be used"));
  }

  void damagedOrHostilePicturesDoNotRestore() {
    window_->parameterForm()->setPrompt("a photo of a teacher");
    QSignalSpy errors(window_.get(), &MainWindow::errorShown);
    writeAll(home_.filePath("garbage.png"), QByteArray(2048, '\x89'));
    QVERIFY(!window_->restoreFromFile(home_.filePath("garbage.png")));
    const QString fifo = home_.filePath("pipe.png");
    QCOMPARE(::mkfifo(fifo.toLocal8Bit().constData(), 0600), 0);
    QVERIFY(!window_->restoreFromFile(fifo));  // refused at once, not waited on
    // A real PNG whose parameters text carries absurd or injected settings.
    QImage image(8, 8, QImage::Format_RGB888);
    image.fill(Qt::gray);
    for (const QString& text : {QString("a cat\nSteps: 4294967298, Seed: 1, Size: 64x64"),
                                QString("a cat\nSteps: 20, Seed: 1, Size: -8x64"),
                                QString("a cat\nSteps: 20, Seed: 1, CFG scale: nan, Size: 64x64")}) {
      image.setText("parameters", text);
      QVERIFY(image.save(home_.filePath("hostile.png")));
      QVERIFY(!window_->restoreFromFile(home_.filePath("hostile.png")));
    }
    QCOMPARE(errors.count(), 5);
    QCOMPARE(window_->prompt(), QString("a photo of a teacher"));
    closeErrorBoxes();
  }

  void badPromptListsAreRefusedAndKeepTheText() {
    QWidget page;
    auto* box = new QPlainTextEdit(&page);
    box->setPlainText("a doctor");
    writeAll(home_.filePath("binary.txt"), QByteArray("\xff\xfe\x00\x01garbage", 11));
    writeAll(home_.filePath("empty.csv"), "prompt\n");
    QVERIFY(!respo::ui::importPromptListFrom(&page, box, home_.filePath("binary.txt")));
    QVERIFY(!respo::ui::importPromptListFrom(&page, box, home_.filePath("empty.csv")));
    QVERIFY(!respo::ui::importPromptListFrom(&page, box, home_.filePath("missing.txt")));
    const QString fifo = home_.filePath("prompts-pipe.txt");
    QCOMPARE(::mkfifo(fifo.toLocal8Bit().constData(), 0600), 0);
    QVERIFY(!respo::ui::importPromptListFrom(&page, box, fifo));
    QCOMPARE(page.findChildren<QMessageBox*>("promptImportError").size(), 4);
    QCOMPARE(box->toPlainText(), QString("a doctor"));
    writeAll(home_.filePath("good.csv"), "prompt\n\"a nurse, smiling\"\na chef\n");
    QVERIFY(respo::ui::importPromptListFrom(&page, box, home_.filePath("good.csv")));
    QCOMPARE(box->toPlainText(), QString("a nurse, smiling\na chef"));
  }

  void theAppStillGenerates() {
    window_->parameterForm()->setPrompt("a photo of a firefighter");
    window_->parameterForm()->setSeed(5);
    const auto man = respo::testing::conceptItem(*window_, "a man");
    QVERIFY(man);
    man->setCheckState(0, Qt::Checked);
    const JobResult result = respo::testing::generateByClick(*window_, kTimeoutMs);
    QCOMPARE(result.responsible.size(), 1);
    QVERIFY(!result.responsibleIsBaseline);
  }

  void aHundredQueuedJobsWithRandomCancelsLeaveItResponsive() {
    window_->findChild<QSpinBox*>("stepsSpin")->setValue(2);
    // The GUI thread's pulse: a 20 ms timer whose longest gap shows any freeze.
    QElapsedTimer clock;
    clock.start();
    qint64 last = 0, worstGap = 0;
    QTimer pulse;
    connect(&pulse, &QTimer::timeout, this, [&] {
      worstGap = std::max(worstGap, clock.elapsed() - last);
      last = clock.elapsed();
    });
    pulse.start(20);
    std::mt19937 random(7);
    int removals = 0, cancels = 0;
    auto* button = window_->findChild<QWidget*>("generateButton");
    QSignalSpy finished(window_.get(), &MainWindow::resultShown);
    for (int i = 0; i < 100; ++i) {
      window_->parameterForm()->setSeed(100 + i);
      QTest::mouseClick(button, Qt::LeftButton);
      QTest::qWait(5);
      if (random() % 8 == 0) {  // take a random job out of the queue (or cancel it when it runs)
        Q_EMIT window_->history()->removeQueuedRequested(static_cast<int>(random() % 400));
        ++removals;
      }
      if (random() % 30 == 0) {  // the Cancel button: stops the running job and empties the queue
        window_->cancel();
        ++cancels;
      }
    }
    QVERIFY(QTest::qWaitFor([&] { return !window_->isBusy() && window_->history()->queuedCount() == 0; }, 600000));
    pulse.stop();
    qInfo("100 jobs: %lld shown, %d removals, %d cancels; longest GUI-thread gap %lld ms", static_cast<long long>(finished.count()),
          removals, cancels, static_cast<long long>(worstGap));
    QVERIFY(finished.count() > 0);
    QVERIFY2(worstGap < 1000, qPrintable(QString::number(worstGap)));
    // Still usable: one more generation goes through.
    const JobResult result = respo::testing::generateByClick(*window_, kTimeoutMs);
    QCOMPARE(result.responsible.size(), 1);
  }
};

QTEST_MAIN(TestStudioBadInputs)
#include "test_studio_bad_inputs.moc"
