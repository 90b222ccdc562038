#include "ui/prompt_import.h"

#include <QFileDialog>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QStringList>

#include "core/common/error.h"
#include "core/respo/prompt_list.h"

namespace respo::ui {

bool importPromptList(QWidget* parent, QPlainTextEdit* target) {
  const QString file = QFileDialog::getOpenFileName(parent, QObject::tr("Import prompts"), {},
                                                    QObject::tr("Prompt lists (*.txt *.csv);;All files (*)"));
  if (file.isEmpty()) return false;
  return importPromptListFrom(parent, target, file);
}

bool importPromptListFrom(QWidget* parent, QPlainTextEdit* target, const QString& file) {
  try {
    const auto prompts = respo::concepts::readPromptList(file.toStdString());
    if (prompts.empty()) throw respo::InvalidArgument(file.toStdString() + " holds no prompts");
    QStringList lines;
    for (const auto& p : prompts) lines << QString::fromStdString(p);
    target->setPlainText(lines.join('\n'));
    return true;
  } catch (const std::exception& e) {
    auto* box = new QMessageBox(QMessageBox::Warning, QObject::tr("Import prompts"), QString::fromUtf8(e.what()),
                                QMessageBox::Ok, parent);
    box->setObjectName("promptImportError");
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setModal(false);
    box->show();
    return false;
  }
}

}  // namespace respo::ui
